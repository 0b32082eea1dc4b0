"""Train the text classifier head shipped in ``moderation/data/text_head.json``.

Usage::

    python scripts/train_text_head.py [--eval-dir /work/shared/eval] [--no-loso]

Rules of the training:
- Rows: in-scope unsafe rows of the eval set (scope = sexual, violence_graphic, hate,
  self_harm, illegal) and all benign rows; ``out_of_scope`` rows are excluded (they are
  unsafe for reasons this head does not name, so neither label fits). The hand-written
  sentences of ``moderation/data/prototypes.json`` are added with weight 2.
- Features: the runtime's own features (int8 ONNX MiniLM, mean+max pooling) of the
  normalised prompt, so training sees exactly what the web path sees.
- Model: multinomial logistic regression (benign + 5 categories), balanced class
  weights, inputs standardised; the scaler is folded into the shipped weights.
- The flag score is p(unsafe) = 1 - p(benign); the category is the likeliest unsafe one.
- Thresholds come from out-of-fold (5-fold) scores, never from in-sample ones: ``allow``
  is the score that ``TARGET_REVIEW_FPR`` of benign rows reach, ``block`` the one that
  ``TARGET_BLOCK_FPR`` of them reach (at least ``MIN_BLOCK``).
- Reported: 5-fold out-of-fold results and leave-one-source-out results (each source
  family held out whole, thresholds picked on the rest by inner 3-fold CV).
Needs scikit-learn (training only; the runtime uses numpy).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from moderation.engine.normalize import normalize  # noqa: E402
from moderation.engine.text_classifier import (  # noqa: E402
    BENIGN,
    DEFAULT_HEAD_PATH,
    DEFAULT_MODEL_DIR,
    Embedder,
    TextHead,
)

CLASSES = (BENIGN, "sexual", "violence_graphic", "hate", "self_harm", "illegal")
PROTOTYPES_PATH = REPO_ROOT / "moderation" / "data" / "prototypes.json"
CACHE_DIR = REPO_ROOT / "var" / "cache"
DEFAULT_EVAL_DIR = Path("/work/shared/eval")
REGULARISATION_C = 0.01
PROTOTYPE_WEIGHT = 2.0
TARGET_REVIEW_FPR = 0.02
TARGET_BLOCK_FPR = 0.002
MIN_BLOCK = 0.9
SEED = 0


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


def data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def compute_features(texts: list[str], model_dir: Path, key: str) -> np.ndarray:
    """Runtime features for each text, cached under var/cache by content hash."""
    model_file = model_dir / "minilm-l6-int8.onnx"
    digest = hashlib.sha256(key.encode())
    digest.update(model_file.read_bytes()[:1_000_000])
    digest.update("\n".join(texts).encode())
    cache = CACHE_DIR / f"text-features-{digest.hexdigest()[:16]}.npy"
    if cache.exists():
        return np.load(cache)
    embedder = Embedder(model_dir)
    features = embedder.features([normalize(t).text for t in texts])
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(cache, features)
    return features


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


def out_of_fold(x: np.ndarray, y: np.ndarray, weights: np.ndarray, folds: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    result = np.zeros((len(y), len(CLASSES)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(x, y):
        w, b = fit(x[train], y[train], weights[train])
        result[test] = unsafe_scores(x[test], w, b)
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
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, families: np.ndarray
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for family in sorted(set(families) - {"prototypes"}):
        held = families == family
        train = ~held
        inner = out_of_fold(x[train], y[train], weights[train], 3)
        allow, block = pick_thresholds(inner, y[train])
        w, b = fit(x[train], y[train], weights[train])
        results[family] = summarise(
            unsafe_scores(x[held], w, b), y[held], families[held], allow, block
        )
        print(f"  LOSO {family}: {json.dumps(results[family])}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=str(DEFAULT_EVAL_DIR))
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--out", default=str(DEFAULT_HEAD_PATH))
    parser.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    args = parser.parse_args(argv)

    eval_dir = Path(args.eval_dir)
    rows = load_rows(eval_dir) + load_prototypes()
    texts = [r["prompt"] for r in rows]
    y = np.array([CLASSES.index(r["scope"]) for r in rows])
    families = np.array([source_family(r["source"]) for r in rows])
    weights = np.array([PROTOTYPE_WEIGHT if f == "prototypes" else 1.0 for f in families])
    hashed = data_hash(
        [eval_dir / "dev_unsafe.jsonl", eval_dir / "dev_benign.jsonl", PROTOTYPES_PATH]
    )
    x = compute_features(texts, Path(args.model_dir), hashed).astype(np.float64)
    print(f"{len(rows)} rows, features {x.shape}", flush=True)

    oof = out_of_fold(x, y, weights, 5)
    allow, block = pick_thresholds(oof, y)
    is_eval = families != "prototypes"
    cv = summarise(oof[is_eval], y[is_eval], families[is_eval], allow, block)
    print(f"5-fold: {json.dumps(cv)}", flush=True)
    loso = {} if args.no_loso else leave_one_source_out(x, y, weights, families)

    w, b = fit(x, y, weights)
    head = TextHead(
        classes=CLASSES,
        weights=w.astype(np.float32),
        bias=np.clip(b, -1e4, 1e4).astype(np.float32),
        thresholds={"unsafe": {"allow": allow, "block": block}},
        metadata={
            "trained": datetime.date.today().isoformat(),
            "data_sha256_16": hashed,
            "rows": len(rows),
            "rows_per_class": {c: int((y == k).sum()) for k, c in enumerate(CLASSES)},
            "features": "minilm-l6-int8 mean+max pooling, L2 each (768)",
            "model": f"multinomial logistic regression, balanced, C={REGULARISATION_C}",
            "threshold_rule": (
                f"out-of-fold: allow at {TARGET_REVIEW_FPR:.1%} benign FPR, "
                f"block at {TARGET_BLOCK_FPR:.1%} (min {MIN_BLOCK})"
            ),
            "cv_5fold": cv,
            "leave_one_source_out": loso,
        },
    )
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(head.to_dict(), handle, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1000} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
