"""Calibrate the multilingual head for prompts in other languages.

    python -m training.other_languages [--sets training/data/languages] [--fpr 0.01] [--write]

Rules:
- A prompt plainly in another language is read by the multilingual head alone
  (``moderation.engine.language``). That head's benign bias was set on English benign
  evaluation rows (``training.train``); on the eight other languages its unsafe scores
  run lower, so at the shared ``allow`` threshold it flags few of them.
- This command scores the benign rows of ``tuning.jsonl`` and ``benign.jsonl`` (written
  in the eight languages, see that folder's README; never ``judged.jsonl``) with the
  head as shipped, finds the unsafe score that ``--fpr`` of them reach, and sets the
  factor on the unsafe odds that maps that score onto the MiniLM head's ``allow``
  threshold. It never lowers the odds (factor at least 1).
- ``--write`` stores the factor and how it was found in the head's metadata
  (``other_languages``), which ``MultilingualScorer`` reads. Without it the command
  only reports. Deterministic: the same sets and head give the same factor.
  ``training.train`` calls ``calibration`` whenever it rebuilds the multilingual head,
  so a retrained head never ships without its factor.
- The benign rows are self-written: the factor is a calibration on them, not a measure
  of quality; ``judged.jsonl`` (another author) is the check, run once.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from moderation.engine.normalize import normalize
from moderation.engine.text_classifier import (
    DEFAULT_HEAD_PATH,
    DEFAULT_MULTILINGUAL_HEAD_PATH,
    MultilingualEmbedder,
    MultilingualScorer,
    TextHead,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = REPO_ROOT / "training" / "data" / "languages"
CALIBRATION_FILES = ("tuning.jsonl", "benign.jsonl")
DEFAULT_FPR = 0.01


def benign_prompts(sets: Path) -> list[str]:
    prompts = []
    for name in CALIBRATION_FILES:
        with open(sets / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["label"] == "benign":
                    prompts.append(row["prompt"])
    return prompts


def unsafe_odds(scores: np.ndarray, allow: float, fpr: float) -> tuple[float, float]:
    """(factor, score at the target rate): the factor maps that score onto ``allow``."""
    at = float(np.quantile(scores, 1.0 - fpr))
    at = min(max(at, 1e-6), 1.0 - 1e-6)
    factor = math.exp(math.log(allow / (1 - allow)) - math.log(at / (1 - at)))
    return max(1.0, round(factor, 4)), round(at, 4)


def calibration(
    head: TextHead,
    allow: float,
    *,
    sets: Path = DEFAULT_SETS,
    fpr: float = DEFAULT_FPR,
    embedder: MultilingualEmbedder | None = None,
) -> dict[str, object]:
    """The ``other_languages`` metadata for ``head`` (see the module rules); the head's
    own earlier factor, if any, is not applied while scoring."""
    bare = TextHead.from_dict(head.to_dict())
    bare.metadata.pop("other_languages", None)
    scorer = MultilingualScorer(embedder or MultilingualEmbedder(), bare)
    prompts = benign_prompts(sets)
    scores = np.array([sum(scorer.scores(normalize(p).text).values()) for p in prompts])
    factor, at = unsafe_odds(scores, allow, fpr)
    return {
        "unsafe_odds": factor,
        "benign_rows": len(prompts),
        "target_benign_rate": fpr,
        "score_at_target": at,
        "allow": allow,
        "sets": [f"training/data/languages/{name}" for name in CALIBRATION_FILES],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=str(DEFAULT_SETS), help="folder of the language sets")
    parser.add_argument("--fpr", type=float, default=DEFAULT_FPR, help="benign rate at allow")
    parser.add_argument("--write", action="store_true", help="store the factor in the head")
    args = parser.parse_args(argv)

    allow = TextHead.load(DEFAULT_HEAD_PATH).thresholds["unsafe"]["allow"]
    head = TextHead.load(DEFAULT_MULTILINGUAL_HEAD_PATH)
    found = calibration(head, allow, sets=Path(args.sets), fpr=args.fpr)
    print(json.dumps(found))
    if args.write:
        head.metadata["other_languages"] = found
        with open(DEFAULT_MULTILINGUAL_HEAD_PATH, "w", encoding="utf-8") as handle:
            json.dump(head.to_dict(), handle, separators=(",", ":"))
            handle.write("\n")
        print(f"wrote {DEFAULT_MULTILINGUAL_HEAD_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
