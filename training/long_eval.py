"""Long prompts built from third-party rows only: what the filter does with them.

Usage::

    python -m training.long_eval --eval-dir PATH [--length 1800] [--count 400] [--seed 1]
        [--rules-only] [--json OUT]

``training.preamble_eval`` puts rows behind harmless descriptions written for the project.
This puts them among other rows of the evaluation set, so no text here was written for
it: each long prompt is benign rows of ``dev_benign.jsonl`` drawn at random and joined as
sentences (". ") up to ``--length`` characters, the way a long multi-scene prompt reads.

- **Benign side**: ``--count`` such prompts. Reports how many are held, blocked and
  blocked as ``sexual_minors`` (which locks the account and opens a CSAM case), per
  category and layer: what a user who writes long descriptions meets.
- **Unsafe side**: every in-scope unsafe row the path flags alone (``--count`` of them at
  most, spread over the file), placed at a random sentence of such a long benign prompt
  (the same length), and how many stay flagged; per source.

``--rules-only`` runs normalisation and rules (the request path) without the classifiers.
The draw is seeded, so two commits compare on the same prompts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from moderation.engine.normalize import MAX_PROMPT_CHARS  # noqa: E402
from moderation.engine.pipeline import TextModerator  # noqa: E402

IN_SCOPE = {"sexual", "violence_graphic", "hate", "self_harm", "illegal"}
FLAGGED = {"review", "block"}


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _sentence(prompt: str) -> str:
    return prompt.strip().rstrip(".").strip()


def joined(rows: list[dict[str, Any]], rng: random.Random, length: int) -> list[str]:
    """Sentences of randomly drawn rows whose join (". ") stays within ``length``."""
    sentences: list[str] = []
    size = 0
    for _ in range(10 * length):  # a bound: rows longer than length are skipped
        sentence = _sentence(rng.choice(rows)["prompt"])
        if not sentence:
            continue
        extra = len(sentence) + (2 if sentences else 0)
        if size + extra > length:
            if sentences:
                break
            continue
        sentences.append(sentence)
        size += extra
    return sentences


def run(eval_dir: Path, *, length: int, count: int, seed: int, rules_only: bool) -> dict[str, Any]:
    if rules_only:
        from moderation.engine.rules import default_ruleset

        moderator = TextModerator(default_ruleset(), classifier_deferred=True)
    else:
        from moderation.engine.text_classifier import TextClassifier

        moderator = TextModerator(classifier=TextClassifier.load())
    benign = _load(eval_dir / "dev_benign.jsonl")
    unsafe = [r for r in _load(eval_dir / "dev_unsafe.jsonl") if r.get("scope") in IN_SCOPE]
    rng = random.Random(seed)

    outcomes: Counter[str] = Counter()
    for _ in range(count):
        verdict = moderator.check(". ".join(joined(benign, rng, length)))
        outcomes[f"{verdict.decision} {verdict.category} ({verdict.layer})"] += 1
    allowed = outcomes.pop("allow None (None)", 0)
    held = sum(n for k, n in outcomes.items() if k.startswith("review"))
    blocked = sum(n for k, n in outcomes.items() if k.startswith("block"))
    locks = sum(n for k, n in outcomes.items() if k.startswith("block sexual_minors"))

    step = max(1, len(unsafe) // count)
    flagged = [
        r for r in unsafe[::step][:count] if moderator.check(r["prompt"]).decision in FLAGGED
    ]
    kept: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    for row in flagged:
        request = _sentence(row["prompt"])
        around = joined(benign, rng, max(0, length - len(request) - 2))
        around.insert(rng.randrange(len(around) + 1), request)
        prompt = ". ".join(around)
        if len(prompt) > MAX_PROMPT_CHARS:
            continue
        source = str(row["source"]).split(":")[0]
        tried[source] += 1
        kept[source] += moderator.check(prompt).decision in FLAGGED
    return {
        "length": length,
        "seed": seed,
        "rules_only": rules_only,
        "benign": {
            "prompts": count,
            "allowed": allowed,
            "held": held,
            "blocked": blocked,
            "blocked_sexual_minors": locks,
            "outcomes": dict(outcomes.most_common()),
        },
        "unsafe": {
            "flagged_alone": len(flagged),
            "still_flagged": sum(kept.values()),
            "tried": sum(tried.values()),
            "per_source": {s: [kept[s], tried[s]] for s in sorted(tried)},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True, help="folder with dev_*.jsonl")
    parser.add_argument("--length", type=int, default=1800, help="characters per long prompt")
    parser.add_argument("--count", type=int, default=400, help="long prompts per side")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules-only", action="store_true", help="skip the classifiers")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args(argv)
    if not 1 <= args.length <= MAX_PROMPT_CHARS:
        parser.error(f"--length must be 1..{MAX_PROMPT_CHARS}")
    if args.count < 1:
        parser.error("--count must be at least 1")
    if not (args.eval_dir / "dev_benign.jsonl").is_file():
        parser.error(f"{args.eval_dir} has no dev_benign.jsonl")
    result = run(
        args.eval_dir,
        length=args.length,
        count=args.count,
        seed=args.seed,
        rules_only=args.rules_only,
    )
    side, unsafe = result["benign"], result["unsafe"]
    print(
        f"benign long prompts ({args.length} chars): {side['held']} held, {side['blocked']}"
        f" blocked ({side['blocked_sexual_minors']} as sexual_minors) of {side['prompts']}"
    )
    for outcome, n in side["outcomes"].items():
        print(f"  {n:4d}  {outcome}")
    print(
        f"unsafe rows among benign sentences: {unsafe['still_flagged']}/{unsafe['tried']}"
        f" still flagged (of {unsafe['flagged_alone']} flagged alone)"
    )
    for source, (kept, tried) in unsafe["per_source"].items():
        print(f"  {source}: {kept}/{tried}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
