"""Measure the synchronous prompt check on the shipped sets (and the dev set, if present).

    python -m benchmarks.moderation [--eval-dir /work/shared/eval]

Runs the pure engine's text path (normalisation, rules, MiniLM head; what
``manage.py moderation_eval`` runs) on ``training/data/{checkset,finalset,testset3,testset4}``
and, when ``--eval-dir`` holds them, on the evaluation set's ``dev_unsafe.jsonl`` and
``dev_benign.jsonl``. Writes the "Prompt moderation: measured" section of
``docs/benchmarks.md`` (between its markers) with the machine, the date, the rules
version and every SPEC target marked met or not. Targets are checked here, never in
unit tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_section  # noqa: E402

BEGIN, END = "<!-- benchmarks:moderation:begin -->", "<!-- benchmarks:moderation:end -->"
DATA = ROOT / "training" / "data"
SHIPPED = (
    ("check set", DATA / "checkset"),
    ("final set", DATA / "finalset"),
    ("test set 3", DATA / "testset3"),
    ("test set 4", DATA / "testset4"),
)
TARGETS = {
    "recall": 0.80,
    "sexual": 0.90,
    "fpr": 0.03,
    "source_fpr": 0.05,
    "blocks": 0.01,
    "rules_p99_ms": 1.0,
    "total_p99_ms": 30.0,
    "rules_max_p99_ms": 10.0,
}


def _rows(*paths: Path) -> list[dict[str, Any]]:
    from moderation.engine.evaluate import read_jsonl

    return [row for path in paths if path.exists() for row in read_jsonl(path)]


def _mark(ok: bool) -> str:
    return "" if ok else " ✗"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def measure(name: str, rows: list[dict[str, Any]], moderator: Any) -> dict[str, str]:
    from moderation.engine.evaluate import evaluate, source_family

    report, _ = evaluate(rows, moderator)
    benign_counts: dict[str, int] = {}
    for row in rows:
        if row.get("label") != "unsafe":
            source = source_family(str(row.get("source", "unknown")))
            benign_counts[source] = benign_counts.get(source, 0) + 1
    worst_source, worst = max(report["fpr_per_source"].items(), key=lambda item: item[1])
    scopes = report["recall_per_scope"]
    latency = report["latency_ms"]
    return {
        "set": f"{name} ({report['rows']} rows)",
        "recall": _pct(report["recall_in_scope"])
        + _mark(report["recall_in_scope"] >= TARGETS["recall"]),
        "sexual": _pct(scopes.get("sexual")) + _mark((scopes.get("sexual") or 0) >= 0.9),
        "others": " / ".join(
            _pct(scopes.get(c)) for c in ("violence_graphic", "hate", "self_harm", "illegal")
        ),
        "fpr": _pct(report["fpr"]) + _mark(report["fpr"] <= TARGETS["fpr"]),
        "worst": f"{_pct(worst)} {worst_source} (n={benign_counts[worst_source]})"
        + _mark(worst <= TARGETS["source_fpr"]),
        "blocks": _pct(report["block_rate_benign"])
        + _mark(report["block_rate_benign"] <= TARGETS["blocks"]),
        "rules": f"{latency['rules']['p50']:.2f} / {latency['rules']['p99']:.2f} ms"
        + _mark(latency["rules"]["p99"] <= TARGETS["rules_p99_ms"]),
        "total": f"{latency['total']['p50']:.1f} / {latency['total']['p99']:.1f} ms"
        + _mark(latency["total"]["p99"] <= TARGETS["total_p99_ms"]),
    }


def measure_long(rows: list[dict[str, Any]], moderator: Any, count: int = 60) -> list[str]:
    """Whole-path latency at ``MAX_PROMPT_CHARS``: shipped prompts joined into maximum-length
    prompts (every other one ending in an unsafe shipped prompt), against the same
    prompts cut to the classifier's first block (what the classifier read before windows),
    measured in the same run."""
    import statistics
    import time

    from moderation.engine.normalize import MAX_PROMPT_CHARS, normalize
    from moderation.engine.pipeline import TextModerator
    from moderation.engine.text_classifier import MAX_TOKENS

    benign = [r["prompt"] for r in rows if r.get("label") != "unsafe"]
    unsafe = [r["prompt"] for r in rows if r.get("label") == "unsafe"]
    classifier = moderator.classifier
    embedder = classifier.embedder
    prompts = []
    for index in range(count):
        tail = unsafe[index % len(unsafe)] if index % 2 and unsafe else ""
        parts: list[str] = []
        offset = index * 7
        while len(", ".join(parts)) < MAX_PROMPT_CHARS:
            parts.append(benign[offset % len(benign)])
            offset += 1
        prompt = ", ".join(parts)[: MAX_PROMPT_CHARS - len(tail) - 2].rsplit(" ", 1)[0]
        prompts.append(f"{prompt}, {tail}"[:MAX_PROMPT_CHARS] if tail else prompt)
    first_blocks = []
    for prompt in prompts:
        text = normalize(prompt).text
        first_block = [(0, min(MAX_TOKENS - 2, sum(b - a for a, b in embedder.blocks(text))))]
        start, end = embedder.char_spans(text, first_block)[0]
        first_blocks.append(text[start:end])

    def timed(texts: list[str], check: Any = moderator.check) -> tuple[float, float, float, float]:
        """Wall p50, p99, max and CPU-time p99 (ms): on a shared machine the CPU time of
        this single-threaded path is what it would take on an idle one."""
        spent, cpu = [], []
        for text in texts:
            started, started_cpu = time.perf_counter(), time.process_time()
            check(text)
            spent.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.process_time() - started_cpu) * 1000.0)
        spent.sort()
        cpu.sort()
        at = min(len(spent) - 1, round(0.99 * (len(spent) - 1)))
        return statistics.median(spent), spent[at], spent[-1], cpu[at]

    timed(prompts[:3])  # warm up
    blocks = statistics.mean(len(classifier.read_blocks(normalize(p).text)) for p in prompts)
    whole = timed(prompts)
    first = timed(first_blocks)
    # What the web process runs with MODERATION_CLASSIFIER_STAGE=queue (the default):
    # normalisation and the rules; the whole path above is the deep check's, per prompt.
    request = timed(prompts, TextModerator(moderator.ruleset, classifier_deferred=True).check)
    mark = _mark(whole[1] <= TARGETS["total_p99_ms"])
    load = os.getloadavg()[0]
    return [
        f"| whole prompt, {count} prompts of {MAX_PROMPT_CHARS} characters, "
        f"{blocks:.1f} encoder passes each (the deep check on the moderation queue) "
        f"| {whole[0]:.1f} "
        f"| {whole[1]:.1f}{mark} | {whole[2]:.1f} | {whole[3]:.1f} | {load:.1f} |",
        f"| baseline: the same prompts cut to the first block (the old path) | {first[0]:.1f} "
        f"| {first[1]:.1f} | {first[2]:.1f} | {first[3]:.1f} | {load:.1f} |",
        f"| the request stage on the same prompts (normalisation and rules; the classifiers "
        f"on the queue) | {request[0]:.1f} | {request[1]:.1f} | {request[2]:.1f} "
        f"| {request[3]:.1f} | {load:.1f} |",
    ]


def measure_rules_max_length(rows: list[dict[str, Any]], count: int = 100) -> list[str]:
    """Normalisation + rules (the request path): the shipped prompts as written (target
    p99 1 ms), then at ``MAX_PROMPT_CHARS`` (target p99 10 ms), p50/p99 over ``count``
    distinct prompts per kind, built from shipped prompts: as written, every
    word's letters spaced out (words two spaces apart, and letters dotted), and the
    adversarial case of every word a listed term with its letters dotted. Wall time and
    CPU time (the process's own, what an idle core would take)."""
    import random
    import statistics
    import time

    from moderation.engine.normalize import MAX_PROMPT_CHARS, normalize
    from moderation.engine.rules import default_ruleset

    ruleset = default_ruleset()
    words = [w for row in rows for w in str(row["prompt"]).split()]
    terms = [
        t.rstrip("*").replace(" ", "")
        for g in ruleset.groups.values()
        for t in g.terms
        if t.isascii() and t.rstrip("*").replace(" ", "").isalpha()
    ]
    rng = random.Random(0)

    def build(pool: list[str], letters: str, between: str) -> str:
        start = rng.randrange(len(pool))
        parts: list[str] = []
        size = 0
        while size < MAX_PROMPT_CHARS:
            word = pool[(start + len(parts)) % len(pool)] if pool is words else rng.choice(pool)
            parts.append(letters.join(word) if letters else word)
            size += len(parts[-1]) + len(between)
        return between.join(parts)[:MAX_PROMPT_CHARS]

    kinds = (
        ("ordinary prompts (shipped prompts joined)", words, "", " "),
        ("every word spaced out, words two spaces apart", words, " ", "  "),
        ("every word's letters dotted (`n.u.d.e`)", words, ".", " "),
        ("adversarial: every word a listed term, letters dotted", terms, ".", " "),
    )
    lines = []
    load = os.getloadavg()[0]
    as_written = [str(row["prompt"]) for row in rows]
    runs = [(f"shipped prompts as written ({len(as_written)}, ordinary length)", as_written)]
    for name, pool, letters, between in kinds:
        runs.append((name, [build(pool, letters, between) for _ in range(count)]))
    for name, prompts in runs:
        ruleset.match(normalize(prompts[0]))  # warm up
        wall, cpu = [], []
        for prompt in prompts:
            started, started_cpu = time.perf_counter(), time.process_time()
            ruleset.match(normalize(prompt))
            wall.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.process_time() - started_cpu) * 1000.0)
        wall.sort()
        cpu.sort()
        at = min(len(prompts) - 1, round(0.99 * (len(prompts) - 1)))
        target = TARGETS["rules_p99_ms" if prompts is as_written else "rules_max_p99_ms"]
        mark = _mark(cpu[at] <= target)
        lines.append(
            f"| {name} | {statistics.median(wall):.2f} | {wall[at]:.2f} "
            f"| {statistics.median(cpu):.2f} | {cpu[at]:.2f}{mark} | {load:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default="/work/shared/eval", help="dev set folder")
    args = parser.parse_args(argv)

    from moderation.engine.normalize import MAX_PROMPT_CHARS
    from moderation.engine.pipeline import TextModerator
    from moderation.engine.text_classifier import TextClassifier

    classifier = TextClassifier.load()
    moderator = TextModerator(classifier=classifier)
    # As a warm web or worker process: what it loaded is frozen after its first request
    # or task (core/gcfreeze.py), so full collections skip the rule set and the model.
    moderator.check("a lighthouse at dusk")
    gc.freeze()
    sets = [(name, [folder / "unsafe.jsonl", folder / "benign.jsonl"]) for name, folder in SHIPPED]
    eval_dir = Path(args.eval_dir)
    if (eval_dir / "dev_unsafe.jsonl").exists():
        sets.insert(
            0,
            (
                "shared/eval dev set, in-sample",
                [eval_dir / "dev_unsafe.jsonl", eval_dir / "dev_benign.jsonl"],
            ),
        )
    columns = ("set", "recall", "sexual", "others", "fpr", "worst", "blocks", "rules", "total")
    lines = []
    for name, paths in sets:
        rows = _rows(*paths)
        if rows:
            result = measure(name, rows, moderator)
            lines.append("| " + " | ".join(result[c] for c in columns) + " |")
            print(lines[-1], flush=True)
    shipped_rows = _rows(
        *(folder / n for _, folder in SHIPPED for n in ("unsafe.jsonl", "benign.jsonl"))
    )
    long_lines = measure_long(shipped_rows, moderator)
    print("\n".join(long_lines), flush=True)
    rules_lines = measure_rules_max_length(shipped_rows)
    print("\n".join(rules_lines), flush=True)
    head = classifier.head.metadata
    section = "\n".join(
        [
            BEGIN,
            "### Prompt moderation: measured",
            "",
            f"Measured {dt.date.today().isoformat()} with `python -m benchmarks.moderation` on "
            f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
            f"{platform.python_version()}; rules `{moderator.ruleset.version}`, head trained "
            f"{head.get('trained', '?')}. Flagged = review or block; ✗ marks a missed target "
            "(recall ≥ 80%, sexual ≥ 90%, FPR ≤ 3%, every benign source ≤ 5%, blocks ≤ 1%, "
            "rules p99 ≤ 1 ms, whole path p99 ≤ 30 ms).",
            "",
            "| set | recall | sexual | violence / hate / self-harm / illegal | FPR "
            "| worst benign source | blocked benign | rules p50 / p99 | whole path p50 / p99 |",
            "|---|---|---|---|---|---|---|---|---|",
            *lines,
            "",
            "Whole path at the maximum length (normalisation, rules, the classifier's windows; "
            "ms, one process, measured on the shared machine):",
            "",
            "| prompts | p50 | p99 | max | CPU-time p99 | load average |",
            "|---|---|---|---|---|---|",
            *long_lines,
            "",
            f"Normalisation + rules (the request path) at {MAX_PROMPT_CHARS} characters, "
            "100 distinct prompts per row, and the shipped prompts at their own length "
            "(ms; ✗: CPU-time p99 over the target, 10 ms at the maximum length, 1 ms as "
            "written):",
            "",
            "| prompts | wall p50 | wall p99 | CPU p50 | CPU p99 | load average |",
            "|---|---|---|---|---|---|",
            *rules_lines,
            END,
        ]
    )
    write_section(BEGIN, END, section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
