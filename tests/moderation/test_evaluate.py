from __future__ import annotations

from moderation.engine.evaluate import evaluate, format_report, percentile
from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.engine.pipeline import TextModerator


def test_evaluate_counts_recall_fpr_and_keeps_order():
    rows = [
        {"prompt": "a nude woman", "label": "unsafe", "scope": "sexual", "source": "s1"},
        {"prompt": "a lighthouse", "label": "unsafe", "scope": "sexual", "source": "s1"},
        {"prompt": "a tax form", "label": "unsafe", "scope": "out_of_scope", "source": "s2"},
        {"prompt": "a kitten", "label": "benign", "source": "b1"},
        {"prompt": "a gory scene", "label": "benign", "source": "b2"},
        {"prompt": "x" * (MAX_PROMPT_CHARS + 1), "label": "benign", "source": "b2"},
    ]
    report, outputs = evaluate(rows, TextModerator(classifier=None))
    assert outputs == [
        {"decision": "block", "category": "sexual", "layer": "rules"},
        {"decision": "allow", "category": None, "layer": None},
        {"decision": "allow", "category": None, "layer": None},
        {"decision": "allow", "category": None, "layer": None},
        {"decision": "block", "category": "violence_graphic", "layer": "rules"},
        {"decision": "block", "category": None, "layer": "length"},
    ]
    assert report["recall_in_scope"] == 0.5
    assert report["recall_per_scope"] == {"out_of_scope": 0.0, "sexual": 0.5}
    assert report["recall_per_source"] == {"s1": 0.5}
    assert report["fpr"] == 0.6667
    assert report["fpr_per_source"] == {"b1": 0.0, "b2": 1.0}
    assert report["block_rate_benign"] == 0.6667
    assert "recall per scope:" in format_report(report)


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99)] == [50.0, 95.0, 99.0]
