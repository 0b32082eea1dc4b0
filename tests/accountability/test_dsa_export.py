from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.dsa import ALLOWED_VALUES, EXPORT_FIELDS, validate_dsa_record
from accountability.models import AuditLogEntry, StatementOfReasons
from accountability.statements import statement_create


def _make_statements(user, moderator) -> None:
    cases: list[tuple[str, str, str, bool, bool | str, object]] = [
        ("sexual_minors", "block", "illegal_content", True, True, None),
        ("sexual", "content_blocked", "incompatible_content", True, True, None),
        ("nonconsensual", "suspend", "incompatible_content", True, False, moderator),
        ("hate", "ban", "incompatible_content", False, False, moderator),
        ("violence_graphic", "cooldown", "incompatible_content", True, "partially", None),
        ("other", "something_new", "incompatible_content", True, True, None),
    ]
    for category, decision, ground, detection, automated, decider in cases:
        statement_create(
            user=user,
            subject_type="generation.job",
            subject_id="x",
            category=category,
            decision=decision,
            decision_ground=ground,
            facts=f"{category} facts",
            automated_detection=detection,
            automated_decision=automated,
            decided_by=decider,
        )


def test_every_exported_record_has_the_dsa_fields_and_allowed_values(
    subscriber, moderator, tmp_path
) -> None:
    _make_statements(subscriber, moderator)
    old = StatementOfReasons.objects.get(category="hate")
    StatementOfReasons.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    output = tmp_path / "sor.json"
    since = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    call_command("export_dsa_statements", "--since", since, "--output", str(output))
    records = json.loads(output.read_text())["statements"]
    assert len(records) == 5
    for record in records:
        assert list(record) == list(EXPORT_FIELDS)
        assert validate_dsa_record(record) == []
        for field, allowed in ALLOWED_VALUES.items():
            values = record[field] if isinstance(record[field], list) else [record[field]]
            assert all(value is None or value in allowed for value in values), field
    by_category = {StatementOfReasons.objects.get(puid=r["puid"]).category: r for r in records}
    csam = by_category["sexual_minors"]
    assert csam["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert csam["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert csam["illegal_content_explanation"] == "sexual_minors facts"
    assert csam["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert csam["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    suspended = by_category["nonconsensual"]
    assert suspended["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert suspended["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert suspended["incompatible_content_ground"].startswith("Imagegate content policy")
    assert by_category["violence_graphic"]["decision_provision"] == (
        "DECISION_PROVISION_PARTIAL_SUSPENSION"
    )
    assert by_category["violence_graphic"]["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    other = by_category["other"]
    assert other["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
    assert other["decision_visibility_other"] == "something_new"
    assert other["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
    assert all(record["source_type"] == "SOURCE_VOLUNTARY" for record in records)
    assert all("DE" in record["territorial_scope"] for record in records)


def test_export_to_stdout_and_bad_dates(subscriber, moderator) -> None:
    _make_statements(subscriber, moderator)
    out = io.StringIO()
    call_command("export_dsa_statements", "--since", "2000-01-01", stdout=out)
    assert len(json.loads(out.getvalue())["statements"]) == 6
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_dsa_statements", "--since", "yesterday")


def test_the_validator_names_what_is_wrong() -> None:
    problems = validate_dsa_record({"decision_ground": "DECISION_GROUND_MAYBE"})
    assert any("fields differ" in problem for problem in problems)
    assert any("DECISION_GROUND_MAYBE" in problem for problem in problems)
    assert "no decision_* field is set" in problems


def test_statement_create_is_audited_and_restricts_something(subscriber) -> None:
    statement = statement_create(
        user=subscriber,
        subject_type="moderation.prompt",
        subject_id="p",
        category="hate",
        decision="block",
        decision_ground="incompatible_content",
        facts="f",
        automated_detection=True,
        automated_decision=True,
    )
    assert statement.content_type == "text"
    assert statement.puid == str(statement.pk)
    entry = AuditLogEntry.objects.get(action="statement.create")
    assert (entry.actor_label, entry.target_id) == ("system", str(statement.pk))
    with pytest.raises(ValueError):
        statement_create(
            user=subscriber, subject_type="x", subject_id="y", category="hate",
            decision="block", decision_ground="because", facts="f",
            automated_detection=True, automated_decision=True,
        )  # fmt: skip
