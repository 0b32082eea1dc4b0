"""Evaluate the synchronous text path on a JSONL file of ``{prompt, ...}`` lines.

Rules:
- A row is unsafe when its ``label`` is ``"unsafe"``; its ``scope`` says which category
  it counts for; ``scope == "out_of_scope"`` rows are reported but not counted in the
  in-scope recall. Any other row (``label`` benign or missing) counts as benign.
- Flagged = ``review`` or ``block``. Recall = flagged unsafe rows / unsafe rows;
  false-positive rate = flagged benign rows / benign rows; block rate = blocked
  benign rows / benign rows.
- A prompt over the length limit is not a moderation decision: the API answers 400
  ``invalid_request`` and records nothing. Such rows are reported apart
  (``over_length``, per label and source; decision ``rejected``, layer ``length``)
  and left out of every recall and false-positive rate.
- Sources are grouped by their prefix (``ring-a-bell:InvPrompt/...`` ->
  ``ring-a-bell``): ``recall_per_source`` and ``fpr_per_source`` are per prefix, the
  ``..._per_subsource`` figures per full source name.
- With a jurisdiction's stricter limits (``limits``), each verdict goes through
  ``TextModerator.regional`` as the service does (a classifier-only regional signal
  holds for review). ``jurisdictions`` adds, from the same verdicts, the benign
  flagged and blocked rates and the in-scope recall under each jurisdiction's limits.
- Per row output: decision, category, layer, span, matched text, and every layer's
  scores (normalisation, rules, classifier, regional).
- Latency: the rules layer is normalisation + rules; the whole path is all layers.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from moderation.engine.pipeline import PromptTooLongError, TextModerator, TextVerdict

OUT_OF_SCOPE = "out_of_scope"
REJECTED = "rejected"
Limits = Mapping[str, Mapping[str, float]]


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


def source_family(source: str) -> str:
    """A source's prefix: ``imagereward:test (DiffusionDB)`` -> ``imagereward``."""
    return source.split(":", 1)[0].strip() or source


class _Tally:
    """Recall and false-positive counts for one way of deciding."""

    def __init__(self) -> None:
        self.unsafe_total: dict[str, int] = defaultdict(int)
        self.unsafe_flagged: dict[str, int] = defaultdict(int)
        self.source_total: dict[str, int] = defaultdict(int)
        self.source_flagged: dict[str, int] = defaultdict(int)
        self.benign_total: dict[str, int] = defaultdict(int)
        self.benign_flagged: dict[str, int] = defaultdict(int)
        self.benign_blocked = 0

    def add(self, row: Mapping[str, Any], decision: str) -> None:
        flagged = decision != "allow"
        source = str(row.get("source", "unknown"))
        if row.get("label") == "unsafe":
            scope = str(row.get("scope", "unknown"))
            self.unsafe_total[scope] += 1
            self.unsafe_flagged[scope] += flagged
            if scope != OUT_OF_SCOPE:
                self.source_total[source] += 1
                self.source_flagged[source] += flagged
        else:
            self.benign_total[source] += 1
            self.benign_flagged[source] += flagged
            self.benign_blocked += decision == "block"

    def in_scope_recall(self) -> float | None:
        in_scope = [s for s in self.unsafe_total if s != OUT_OF_SCOPE]
        total = sum(self.unsafe_total[s] for s in in_scope)
        return _ratio(sum(self.unsafe_flagged[s] for s in in_scope), total)

    def benign_rates(self) -> dict[str, Any]:
        count = sum(self.benign_total.values())
        return {
            "benign_rows": count,
            "fpr": _ratio(sum(self.benign_flagged.values()), count),
            "block_rate_benign": _ratio(self.benign_blocked, count),
        }


def _grouped(flagged: Mapping[str, int], total: Mapping[str, int]) -> dict[str, float | None]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for source, count in total.items():
        family = source_family(source)
        sums[family][0] += flagged[source]
        sums[family][1] += count
    return {family: _ratio(f, t) for family, (f, t) in sorted(sums.items())}


def evaluate(
    rows: Iterable[dict[str, Any]],
    moderator: TextModerator,
    *,
    limits: Limits | None = None,
    jurisdiction: str = "",
    jurisdictions: Mapping[str, Limits] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every row; return (report, one output per row, see module rules)."""
    outputs: list[dict[str, Any]] = []
    tally = _Tally()
    regional_tallies = {code: _Tally() for code in jurisdictions or {}}
    over_length: dict[str, dict[str, int]] = {"unsafe": {}, "benign": {}}
    rules_ms: list[float] = []
    total_ms: list[float] = []
    for row in rows:
        prompt = str(row.get("prompt", ""))
        started = time.perf_counter()
        try:
            verdict: TextVerdict | None = moderator.check(prompt)
        except PromptTooLongError as error:
            verdict = None
            kind = "unsafe" if row.get("label") == "unsafe" else "benign"
            source = str(row.get("source", "unknown"))
            over_length[kind][source] = over_length[kind].get(source, 0) + 1
            outputs.append(
                {
                    "decision": REJECTED,
                    "category": None,
                    "layer": "length",
                    "http_status": 400,
                    "length": error.length,
                    "limit": error.limit,
                }
            )
        if verdict is not None:
            decided = verdict
            if limits:
                decided = moderator.regional(verdict, limits, jurisdiction=jurisdiction)
            total_ms.append((time.perf_counter() - started) * 1000.0)
            rules_ms.append(verdict.timings_ms["normalisation"] + verdict.timings_ms["rules"])
            outputs.append(_output(decided))
            tally.add(row, decided.decision)
            for code, regional_limits in (jurisdictions or {}).items():
                under = moderator.regional(verdict, regional_limits, jurisdiction=code)
                regional_tallies[code].add(row, under.decision)

    report: dict[str, Any] = {
        "rows": len(outputs),
        "jurisdiction": jurisdiction or None,
        "recall_in_scope": tally.in_scope_recall(),
        "recall_per_scope": {
            s: _ratio(tally.unsafe_flagged[s], tally.unsafe_total[s])
            for s in sorted(tally.unsafe_total)
        },
        "recall_per_source": _grouped(tally.source_flagged, tally.source_total),
        "recall_per_subsource": {
            s: _ratio(tally.source_flagged[s], tally.source_total[s])
            for s in sorted(tally.source_total)
        },
        "unsafe_rows_per_scope": dict(sorted(tally.unsafe_total.items())),
        **tally.benign_rates(),
        "fpr_per_source": _grouped(tally.benign_flagged, tally.benign_total),
        "fpr_per_subsource": {
            s: _ratio(tally.benign_flagged[s], tally.benign_total[s])
            for s in sorted(tally.benign_total)
        },
        "benign_rows_per_source": _grouped_counts(tally.benign_total),
        "over_length": {
            kind: {"rows": sum(counts.values()), "per_source": dict(sorted(counts.items()))}
            for kind, counts in over_length.items()
        },
        "latency_ms": {
            "rules": {f"p{q}": percentile(rules_ms, q) for q in (50, 95, 99)},
            "total": {f"p{q}": percentile(total_ms, q) for q in (50, 95, 99)},
        },
    }
    if jurisdictions:
        report["per_jurisdiction"] = {
            code: {"recall_in_scope": t.in_scope_recall(), **t.benign_rates()}
            for code, t in regional_tallies.items()
        }
    return report, outputs


def _grouped_counts(total: Mapping[str, int]) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for source, count in total.items():
        sums[source_family(source)] += count
    return dict(sorted(sums.items()))


def _output(verdict: TextVerdict) -> dict[str, Any]:
    return {
        "decision": verdict.decision,
        "category": verdict.category,
        "layer": verdict.layer,
        "span": list(verdict.span) if verdict.span else None,
        "matched_text": verdict.matched_text,
        "scores": verdict.scores,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def format_report(report: dict[str, Any]) -> str:
    """Human-readable text of an ``evaluate`` report."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    lines = [f"rows: {report['rows']}"]
    if report.get("jurisdiction"):
        lines.append(f"jurisdiction: {report['jurisdiction']} (its stricter regional limits)")
    if report["unsafe_rows_per_scope"]:
        lines.append(
            f"recall (in-scope, flagged = review or block): {pct(report['recall_in_scope'])}"
        )
        lines.append("recall per scope:")
        for scope, value in report["recall_per_scope"].items():
            count = report["unsafe_rows_per_scope"][scope]
            lines.append(f"  {scope:<24} {pct(value):>7}  (n={count})")
        lines.append("recall per source (in-scope rows, grouped by the source's prefix):")
        for source, value in report["recall_per_source"].items():
            lines.append(f"  {source[:60]:<60} {pct(value):>7}")
    if report["benign_rows"]:
        lines.append(
            f"false positives on benign: {pct(report['fpr'])} "
            f"(n={report['benign_rows']}); blocked: {pct(report['block_rate_benign'])}"
        )
        lines.append("false-positive rate per benign source (grouped by prefix):")
        for source, value in report["fpr_per_source"].items():
            count = report["benign_rows_per_source"][source]
            lines.append(f"  {source[:52]:<52} {pct(value):>7}  (n={count})")
    for kind, counts in report["over_length"].items():
        if counts["rows"]:
            lines.append(
                f"over the length limit ({kind}): {counts['rows']} rows, rejected with 400 "
                "and counted in no rate"
            )
    for code, figures in report.get("per_jurisdiction", {}).items():
        lines.append(
            f"jurisdiction {code or 'default':<8} benign flagged {pct(figures['fpr']):>6}, "
            f"blocked {pct(figures['block_rate_benign']):>6}; "
            f"in-scope recall {pct(figures['recall_in_scope']):>6}"
        )
    for layer, values in report["latency_ms"].items():
        text = ", ".join(f"{k} {v:.2f} ms" for k, v in values.items())
        lines.append(f"latency {layer}: {text}")
    return "\n".join(lines)
