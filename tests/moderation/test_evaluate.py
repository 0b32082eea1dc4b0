from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from moderation.engine.evaluate import evaluate, format_report, percentile, source_family
from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.engine.pipeline import TextModerator

ROWS = [
    {"prompt": "a nude woman", "label": "unsafe", "scope": "sexual", "source": "s1:a"},
    {"prompt": "a lighthouse", "label": "unsafe", "scope": "sexual", "source": "s1:b"},
    {"prompt": "a tax form", "label": "unsafe", "scope": "out_of_scope", "source": "s2"},
    {"prompt": "a kitten", "label": "benign", "source": "b1"},
    {"prompt": "a gory scene", "label": "benign", "source": "b2:x (y)"},
    {"prompt": "x" * (MAX_PROMPT_CHARS + 1), "label": "benign", "source": "b2:z"},
    {
        "prompt": "y" * (MAX_PROMPT_CHARS + 5),
        "label": "unsafe",
        "scope": "sexual",
        "source": "s1:a",
    },
]


def test_evaluate_counts_recall_fpr_and_keeps_order():
    report, outputs = evaluate(ROWS, TextModerator(classifier=None))
    assert [(o["decision"], o["category"], o["layer"]) for o in outputs] == [
        ("block", "sexual", "rules"),
        ("allow", None, None),
        ("allow", None, None),
        ("allow", None, None),
        ("block", "violence_graphic", "rules"),
        ("rejected", None, "length"),
        ("rejected", None, "length"),
    ]
    assert report["recall_in_scope"] == 0.5
    assert report["recall_per_scope"] == {"out_of_scope": 0.0, "sexual": 0.5}
    assert report["fpr"] == 0.5
    assert report["block_rate_benign"] == 0.5
    assert report["benign_rows"] == 2
    assert "recall per scope:" in format_report(report)


def test_over_length_rows_are_reported_apart_not_counted_as_blocks():
    report, outputs = evaluate(ROWS, TextModerator(classifier=None))
    assert report["over_length"] == {
        "unsafe": {"rows": 1, "per_source": {"s1:a": 1}},
        "benign": {"rows": 1, "per_source": {"b2:z": 1}},
    }
    assert outputs[5] == {
        "decision": "rejected",
        "category": None,
        "layer": "length",
        "http_status": 400,
        "length": MAX_PROMPT_CHARS + 1,
        "limit": MAX_PROMPT_CHARS,
    }
    assert report["unsafe_rows_per_scope"] == {"out_of_scope": 1, "sexual": 2}
    assert "rejected with 400" in format_report(report)


def test_sources_are_grouped_by_their_prefix():
    report, _ = evaluate(ROWS, TextModerator(classifier=None))
    assert report["recall_per_source"] == {"s1": 0.5}
    assert report["recall_per_subsource"] == {"s1:a": 1.0, "s1:b": 0.0}
    assert report["fpr_per_source"] == {"b1": 0.0, "b2": 1.0}
    assert report["benign_rows_per_source"] == {"b1": 1, "b2": 1}
    assert source_family("imagereward:test (DiffusionDB)") == "imagereward"
    assert source_family("partiprompts") == "partiprompts"


def test_json_output_carries_span_layer_and_every_layer_scores():
    _, outputs = evaluate(ROWS[:1], TextModerator(classifier=None))
    (output,) = outputs
    assert output["span"] == [2, 6]
    assert output["matched_text"] == "nude"
    assert output["layer"] == "rules"
    assert set(output["scores"]) == {"normalisation", "rules", "classifier"}
    assert {r["group"] for r in output["scores"]["rules"]} >= {"sexual_explicit"}


class _Violent:
    def scores(self, text: str) -> dict[str, float]:
        return {"violence_graphic": 0.6 if "battle" in text else 0.0}


def test_a_jurisdiction_applies_its_regional_limits():
    rows = [
        {"prompt": "after the battle", "label": "benign", "source": "b"},
        {"prompt": "a kitten", "label": "benign", "source": "b"},
    ]
    moderator = TextModerator(
        classifier=_Violent(), thresholds={"unsafe": {"allow": 0.9, "block": 0.99}}
    )
    limits = {"violence_graphic": {"allow": 0.25, "block": 0.5}}
    plain, _ = evaluate(rows, moderator)
    report, outputs = evaluate(
        rows, moderator, limits=limits, jurisdiction="DE", jurisdictions={"DE": limits}
    )
    assert (plain["fpr"], report["fpr"], report["block_rate_benign"]) == (0.0, 0.5, 0.0)
    assert outputs[0]["decision"] == "review"
    assert outputs[0]["scores"]["regional"]["jurisdiction"] == "DE"
    assert report["per_jurisdiction"] == {
        "DE": {"recall_in_scope": None, "benign_rows": 2, "fpr": 0.5, "block_rate_benign": 0.0}
    }


@pytest.mark.django_db
def test_the_command_takes_a_jurisdiction_of_the_table(tmp_path: Path, capsys):
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    call_command(
        "moderation_eval", str(data), "--rules-only", "--jurisdiction", "DE", "--json", str(out)
    )
    text = capsys.readouterr().out
    assert "jurisdiction: DE" in text
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["decision"] for line in lines] == [
        "block", "allow", "allow", "allow", "block", "rejected", "rejected",
    ]  # fmt: skip
    call_command("moderation_eval", str(data), "--rules-only", "--jurisdiction", "all")
    table = capsys.readouterr().out
    assert "jurisdiction DE" in table and "jurisdiction US-AL" in table
    with pytest.raises(CommandError, match="unknown jurisdiction 'XX'"):
        call_command("moderation_eval", str(data), "--rules-only", "--jurisdiction", "XX")


@pytest.mark.django_db
def test_the_command_says_to_migrate_when_the_table_is_missing(tmp_path: Path, monkeypatch):
    from django.db import OperationalError

    from accounts.models import Jurisdiction

    def missing(*args: object, **kwargs: object) -> None:
        raise OperationalError("no such table: accounts_jurisdiction")

    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    monkeypatch.setattr(type(Jurisdiction.objects), "all", missing)
    with pytest.raises(CommandError, match=r"run `python manage\.py migrate` first"):
        call_command(
            "moderation_eval", str(data), "--rules-only", "--jurisdiction", "DE", "--json", str(out)
        )
    assert not out.exists()


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99)] == [50.0, 95.0, 99.0]
