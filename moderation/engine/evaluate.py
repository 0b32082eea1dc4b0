"""Evaluate the synchronous text path on a JSONL file of ``{prompt, ...}`` lines.

Rules:
- A row is unsafe when its ``label`` is ``"unsafe"``; its ``scope`` says which category
  it counts for; ``scope == "out_of_scope"`` rows are reported but not counted in the
  in-scope recall. Any other row (``label`` benign or missing) counts as benign.
- Flagged = ``review`` or ``block``. Recall = flagged unsafe rows / unsafe rows;
  false-positive rate = flagged benign rows / benign rows; block rate = blocked
  benign rows / benign rows.
- A prompt over the length limit is rejected: it counts as ``block`` with layer
  ``length`` (the product refuses it without a moderation decision).
- Latency: the rules layer is normalisation + rules; the whole path is all layers.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from moderation.engine.pipeline import PromptTooLongError, TextModerator

OUT_OF_SCOPE = "out_of_scope"


def read_jsonl(path: Path | str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered))))
    return round(ordered[rank - 1], 3)


def evaluate(
    rows: Iterable[dict[str, Any]], moderator: TextModerator
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every row; return (report, one ``{decision, category, layer}`` per row)."""
    outputs: list[dict[str, Any]] = []
    unsafe_total: dict[str, int] = defaultdict(int)
    unsafe_flagged: dict[str, int] = defaultdict(int)
    source_total: dict[str, int] = defaultdict(int)
    source_flagged: dict[str, int] = defaultdict(int)
    benign_total: dict[str, int] = defaultdict(int)
    benign_flagged: dict[str, int] = defaultdict(int)
    benign_blocked = 0
    rules_ms: list[float] = []
    total_ms: list[float] = []
    for row in rows:
        prompt = str(row.get("prompt", ""))
        started = time.perf_counter()
        try:
            verdict = moderator.check(prompt)
            output = {
                "decision": verdict.decision,
                "category": verdict.category,
                "layer": verdict.layer,
            }
            rules_ms.append(verdict.timings_ms["normalisation"] + verdict.timings_ms["rules"])
        except PromptTooLongError:
            output = {"decision": "block", "category": None, "layer": "length"}
        total_ms.append((time.perf_counter() - started) * 1000.0)
        outputs.append(output)
        flagged = output["decision"] != "allow"
        source = str(row.get("source", "unknown"))
        if row.get("label") == "unsafe":
            scope = str(row.get("scope", "unknown"))
            unsafe_total[scope] += 1
            unsafe_flagged[scope] += flagged
            if scope != OUT_OF_SCOPE:
                source_total[source] += 1
                source_flagged[source] += flagged
        else:
            benign_total[source] += 1
            benign_flagged[source] += flagged
            benign_blocked += output["decision"] == "block"

    in_scope = [s for s in unsafe_total if s != OUT_OF_SCOPE]
    in_scope_total = sum(unsafe_total[s] for s in in_scope)
    benign_count = sum(benign_total.values())
    report: dict[str, Any] = {
        "rows": len(outputs),
        "recall_in_scope": _ratio(sum(unsafe_flagged[s] for s in in_scope), in_scope_total),
        "recall_per_scope": {
            s: _ratio(unsafe_flagged[s], unsafe_total[s]) for s in sorted(unsafe_total)
        },
        "recall_per_source": {
            s: _ratio(source_flagged[s], source_total[s]) for s in sorted(source_total)
        },
        "unsafe_rows_per_scope": dict(sorted(unsafe_total.items())),
        "benign_rows": benign_count,
        "fpr": _ratio(sum(benign_flagged.values()), benign_count),
        "fpr_per_source": {
            s: _ratio(benign_flagged[s], benign_total[s]) for s in sorted(benign_total)
        },
        "block_rate_benign": _ratio(benign_blocked, benign_count),
        "latency_ms": {
            "rules": {f"p{q}": percentile(rules_ms, q) for q in (50, 95, 99)},
            "total": {f"p{q}": percentile(total_ms, q) for q in (50, 95, 99)},
        },
    }
    return report, outputs


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def format_report(report: dict[str, Any]) -> str:
    """Human-readable text of an ``evaluate`` report."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    lines = [f"rows: {report['rows']}"]
    if report["unsafe_rows_per_scope"]:
        lines.append(
            f"recall (in-scope, flagged = review or block): {pct(report['recall_in_scope'])}"
        )
        lines.append("recall per scope:")
        for scope, value in report["recall_per_scope"].items():
            count = report["unsafe_rows_per_scope"][scope]
            lines.append(f"  {scope:<24} {pct(value):>7}  (n={count})")
        lines.append("recall per source (in-scope rows):")
        for source, value in report["recall_per_source"].items():
            lines.append(f"  {source[:60]:<60} {pct(value):>7}")
    if report["benign_rows"]:
        lines.append(
            f"false positives on benign: {pct(report['fpr'])} "
            f"(n={report['benign_rows']}); blocked: {pct(report['block_rate_benign'])}"
        )
        lines.append("false-positive rate per benign source:")
        for source, value in report["fpr_per_source"].items():
            lines.append(f"  {source[:60]:<60} {pct(value):>7}")
    for layer, values in report["latency_ms"].items():
        text = ", ".join(f"{k} {v:.2f} ms" for k, v in values.items())
        lines.append(f"latency {layer}: {text}")
    return "\n".join(lines)
