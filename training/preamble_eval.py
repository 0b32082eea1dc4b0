"""How many unsafe prompts stay flagged behind a long harmless preamble (issue 11, item 3).

Usage::

    python -m training.preamble_eval --eval-dir PATH [--preambles FILE] [--sample N] [--json OUT]

Runs the whole text path (normalisation, rules, both classifiers: what the deep check
runs) on every in-scope unsafe row of ``dev_unsafe.jsonl``, keeps the rows it flags
(review or block), then puts each behind every preamble of ``--preambles`` (default
``training/data/preambles/preambles.jsonl``: harmless scene descriptions of ~300 words
written by a helper that saw none of the term lists or training text) and counts how
many of them are still flagged. A row whose preamble makes it longer than
``MAX_PROMPT_CHARS`` is counted apart (the API answers 400 to it). Benign rows behind
the same preambles give the false-positive side. Reports per source and overall.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from moderation.engine.normalize import MAX_PROMPT_CHARS  # noqa: E402
from moderation.engine.pipeline import TextModerator  # noqa: E402
from moderation.engine.text_classifier import TextClassifier  # noqa: E402

IN_SCOPE = {"sexual", "violence_graphic", "hate", "self_harm", "illegal"}

DEFAULT_PREAMBLES = REPO_ROOT / "training" / "data" / "preambles" / "preambles.jsonl"


def _load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _flagged(moderator: TextModerator, prompt: str) -> bool:
    return moderator.check(prompt).decision in {"review", "block"}


def _every(rows: list[dict], wanted: int | None) -> list[dict]:
    """``wanted`` rows spread evenly over the file (every source), or all of them."""
    if not wanted or wanted >= len(rows):
        return rows
    return [rows[i * len(rows) // wanted] for i in range(wanted)]


def run(
    eval_dir: Path, preambles_path: Path, sample: int | None = None, heads: Path | None = None
) -> dict:
    classifier = (
        TextClassifier.load(
            head_path=heads / "text_head.json",
            multilingual_head_path=heads / "text_head_multilingual.json",
        )
        if heads
        else TextClassifier.load()
    )
    moderator = TextModerator(classifier=classifier)
    preambles = {row["name"]: row["text"] for row in _load(preambles_path)}
    unsafe = [r for r in _load(eval_dir / "dev_unsafe.jsonl") if r.get("scope") in IN_SCOPE]
    benign = _load(eval_dir / "dev_benign.jsonl")
    unsafe, benign = _every(unsafe, sample), _every(benign, sample)
    started = time.monotonic()
    flagged = [r for r in unsafe if _flagged(moderator, r["prompt"])]
    allowed = [r for r in benign if not _flagged(moderator, r["prompt"])]
    result: dict = {
        "unsafe_in_scope": len(unsafe),
        "flagged_alone": len(flagged),
        "benign": len(benign),
        "benign_allowed_alone": len(allowed),
        "preambles": {},
    }
    for name, preamble in preambles.items():
        kept: Counter[str] = Counter()
        tried: Counter[str] = Counter()
        too_long = 0
        for row in flagged:
            prompt = f"{preamble} {row['prompt']}"
            if len(prompt) > MAX_PROMPT_CHARS:
                too_long += 1
                continue
            tried[row["source"]] += 1
            kept[row["source"]] += _flagged(moderator, prompt)
        benign_flagged = sum(
            _flagged(moderator, prompt)
            for row in allowed
            if len(prompt := f"{preamble} {row['prompt']}") <= MAX_PROMPT_CHARS
        )
        result["preambles"][name] = {
            "words": len(preamble.split()),
            "alone": (
                moderator.check(preamble).decision
                if len(preamble) <= MAX_PROMPT_CHARS
                else "over_length"
            ),
            "still_flagged": sum(kept.values()),
            "tried": sum(tried.values()),
            "over_length": too_long,
            "per_source": {s: [kept[s], tried[s]] for s in sorted(tried)},
            "benign_flagged": benign_flagged,
            "benign_tried": sum(
                1 for r in allowed if len(preamble) + 1 + len(r["prompt"]) <= MAX_PROMPT_CHARS
            ),
        }
        print(name, json.dumps(result["preambles"][name]), flush=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True, help="folder with dev_*.jsonl")
    parser.add_argument("--preambles", type=Path, default=DEFAULT_PREAMBLES)
    parser.add_argument("--sample", type=int, help="N rows of each file, spread evenly")
    parser.add_argument("--heads", type=Path, help="folder of candidate heads (default: shipped)")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args(argv)
    result = run(args.eval_dir, args.preambles, args.sample, args.heads)
    print(json.dumps({k: v for k, v in result.items() if k != "preambles"}))
    kept = sum(f["still_flagged"] for f in result["preambles"].values())
    tried = sum(f["tried"] for f in result["preambles"].values())
    benign = sum(f["benign_flagged"] for f in result["preambles"].values())
    benign_tried = sum(f["benign_tried"] for f in result["preambles"].values())
    print(
        f"all preambles: {kept}/{tried} still flagged ({kept / max(tried, 1):.1%});"
        f" benign flagged {benign}/{benign_tried} ({benign / max(benign_tried, 1):.1%})"
    )
    for name, figures in result["preambles"].items():
        share = figures["still_flagged"] / max(figures["tried"], 1)
        print(
            f"{name} ({figures['words']} words, alone: {figures['alone']}):"
            f" {figures['still_flagged']}/{figures['tried']}"
            f" still flagged ({share:.1%}), {figures['over_length']} over length; benign"
            f" flagged {figures['benign_flagged']}/{figures['benign_tried']}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
