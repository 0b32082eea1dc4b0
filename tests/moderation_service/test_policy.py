from __future__ import annotations

import pytest
from django.db import connection

from accountability.models import AuditLogEntry
from accounts.models import User
from core.errors import ApplicationError
from moderation.models import PolicyVersion, PolicyVersionImmutableError
from moderation.policy import (
    default_policy_document,
    policy_compiled,
    policy_current,
    policy_document_errors,
    policy_publish,
)
from moderation.services import prompt_moderate
from tests.moderation_service.conftest import fixed_document
from tests.tamper import triggers_off

pytestmark = pytest.mark.django_db


def test_migration_creates_version_1_from_the_engine_rules() -> None:
    version = PolicyVersion.objects.get(number=1)
    assert version.document["rules"]["groups"]["sexual_explicit"]["action"] == "block"
    assert "porn*" in version.document["rules"]["groups"]["sexual_explicit"]["terms"]
    assert version.document["adult_content"] == {"plans": [], "jurisdictions": []}
    assert policy_document_errors(version.document) == []


def test_version_1_is_built_when_no_version_exists() -> None:
    # As a flushed test database: bypass the append-only guard.
    with triggers_off(PolicyVersion), connection.cursor() as cursor:
        cursor.execute("DELETE FROM moderation_policyversion")
    assert policy_current().number == 1
    assert PolicyVersion.objects.count() == 1


def test_editing_publishes_a_new_version_and_is_audited(senior: User) -> None:
    before = policy_current()
    document = fixed_document()
    document["rules"]["groups"]["violence_graphic_block"]["terms"].append("splatterfest")
    version = policy_publish(actor=senior, document=document, reason="add splatterfest")
    assert version.number == before.number + 1
    assert policy_current() == version
    assert PolicyVersion.objects.get(pk=before.pk).document == before.document
    entry = AuditLogEntry.objects.get(action="moderation.policy_publish", target_id=str(version.pk))
    assert entry.actor_id == senior.pk
    assert entry.reason == "add splatterfest"
    assert "rules" in entry.after["changed"]


def test_a_published_version_never_changes() -> None:
    version = policy_current()
    version.reason = "rewritten"
    with pytest.raises(PolicyVersionImmutableError):
        version.save()
    with pytest.raises(PolicyVersionImmutableError):
        version.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger on PostgreSQL only")
def test_the_database_refuses_to_update_a_version() -> None:
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        PolicyVersion.objects.filter(number=1).update(reason="rewritten")


def test_decisions_reference_the_version_they_used(
    policy: PolicyVersion, senior: User, member: User, jurisdiction
) -> None:
    first = prompt_moderate(
        user=member, prompt="a splatterfest", negative_prompt="", jurisdiction=jurisdiction
    )
    assert first.decision == "allow"
    assert first.policy_version == policy
    document = fixed_document()
    document["rules"]["groups"]["violence_graphic_block"]["terms"].append("splatterfest")
    newer = policy_publish(actor=senior, document=document, reason="add splatterfest")
    second = prompt_moderate(
        user=member, prompt="a splatterfest", negative_prompt="", jurisdiction=jurisdiction
    )
    assert (second.decision, second.category) == ("block", "violence_graphic")
    assert second.policy_version == newer
    assert second.prompt_log is not None and second.prompt_log.policy_version == newer
    first.refresh_from_db()
    assert first.policy_version == policy


def test_only_senior_moderators_publish(member: User) -> None:
    count = PolicyVersion.objects.count()
    with pytest.raises(ApplicationError) as raised:
        policy_publish(actor=member, document=default_policy_document(), reason="mine now")
    assert raised.value.code == "permission_denied"
    assert PolicyVersion.objects.count() == count


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"categories": {"sexual": {"allow": 0.9, "block": 0.5}}}, "allow must not exceed"),
        ({"categories": {"gore": {"allow": 0.1, "block": 0.5}}}, "unknown category"),
        ({"strikes": {"window_days": 90, "cooldown_at": 9, "cooldown_hours": 1, "suspend_at": 3}},
         "cooldown_at must not exceed"),
        ({"max_prompt_chars": 10**6}, "max_prompt_chars"),
    ],
)  # fmt: skip
def test_an_invalid_document_is_refused(senior: User, change: dict, message: str) -> None:
    count = PolicyVersion.objects.count()
    with pytest.raises(ApplicationError) as raised:
        policy_publish(actor=senior, document=fixed_document(**change), reason="bad")
    assert raised.value.code == "invalid_request"
    assert any(message in m for m in raised.value.details["document"])
    assert PolicyVersion.objects.count() == count


def test_an_invalid_rule_is_refused(senior: User) -> None:
    document = fixed_document()
    document["rules"]["groups"]["sexual_explicit"]["action"] = "obliterate"
    with pytest.raises(ApplicationError) as raised:
        policy_publish(actor=senior, document=document, reason="bad")
    assert any("unknown action" in m for m in raised.value.details["document"])


def test_compiled_policy_is_cached_per_version(policy: PolicyVersion, senior: User) -> None:
    assert policy_compiled() is policy_compiled()
    newer = policy_publish(actor=senior, document=fixed_document(), reason="again")
    assert policy_compiled().version == newer


def _builtin_update_migration():
    import importlib

    return importlib.import_module("moderation.migrations.0003_policy_builtin_2026_11_29")


def _older_builtin_document() -> dict:
    document = default_policy_document()
    for name in ("context_support", "context_fiction", "context_education"):
        del document["rules"]["groups"][name]
    document["categories"] = {"unsafe": {"allow": 0.9592, "block": 0.9982}}
    return document


def test_builtin_update_publishes_new_rules_over_an_untouched_default() -> None:
    from django.apps import apps

    newest = policy_current()
    PolicyVersion.objects.create(
        number=newest.number + 1,
        reason="Built-in default policy (engine rules and thresholds).",
        document=_older_builtin_document(),
    )
    _builtin_update_migration().publish_builtin(apps, None)
    published = policy_current()
    assert published.number == newest.number + 2
    assert published.document == default_policy_document()
    assert published.reason.startswith("Built-in default policy (rules of 2026-11-29")
    assert published.document["rules"]["groups"]["context_support"]["softens"] == ["self_harm"]


def test_builtin_update_leaves_an_edited_policy_and_a_current_one_alone() -> None:
    from django.apps import apps

    migration = _builtin_update_migration()
    before = PolicyVersion.objects.count()
    migration.publish_builtin(apps, None)  # the newest is already today's default
    assert PolicyVersion.objects.count() == before
    edited = PolicyVersion.objects.create(
        number=policy_current().number + 1,
        reason="Senior moderator: stricter violence terms.",
        document=_older_builtin_document(),
    )
    migration.publish_builtin(apps, None)
    assert policy_current() == edited
    assert PolicyVersion.objects.count() == before + 1


def test_refresh_publishes_the_shipped_rules_over_an_untouched_default() -> None:
    from io import StringIO

    from django.core.management import call_command

    newest = policy_current()
    PolicyVersion.objects.create(
        number=newest.number + 1,
        reason="Built-in default policy (engine rules and thresholds).",
        document=_older_builtin_document(),
    )
    out = StringIO()
    call_command("moderation_policy_refresh", stdout=out)
    published = policy_current()
    assert published.number == newest.number + 2
    assert published.document == default_policy_document()
    assert out.getvalue().startswith(f"published policy version {published.number}: ")
    entry = AuditLogEntry.objects.filter(action="moderation.policy_publish").latest("id")
    assert (entry.actor_id, entry.after["number"]) == (None, published.number)
    assert set(entry.after["changed"]) == {"categories", "rules"}

    out = StringIO()
    call_command("moderation_policy_refresh", stdout=out)
    assert policy_current() == published
    assert "already the shipped default" in out.getvalue()


def test_refresh_leaves_a_policy_that_moderators_edited() -> None:
    from io import StringIO

    from django.core.management import call_command

    edited = PolicyVersion.objects.create(
        number=policy_current().number + 1,
        reason="Senior moderator: stricter violence terms.",
        document=_older_builtin_document(),
    )
    count = PolicyVersion.objects.count()
    audit_rows = AuditLogEntry.objects.count()
    out = StringIO()
    call_command("moderation_policy_refresh", stdout=out)
    assert policy_current() == edited
    assert PolicyVersion.objects.count() == count
    assert AuditLogEntry.objects.count() == audit_rows
    assert "was edited by moderators; left as it is" in out.getvalue()


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ({"category": None, "action": "context", "softens": "self_harm", "terms": ["x"]},
         "'softens' must be a list of categories"),
        ({"category": None, "action": "context", "softens": [5], "terms": ["x"]},
         "'softens' must be a list of categories"),
        ({"category": None, "action": "context", "softens": ["sexual_minors"], "terms": ["x"]},
         "cannot soften 'sexual_minors'"),
        ({"category": None, "action": "context", "terms": ["x"]}, "needs 'softens'"),
        ({"category": "hate", "action": "block", "softens": ["hate"], "terms": ["x"]},
         "only a context group softens"),
    ],
)  # fmt: skip
def test_an_invalid_context_group_is_refused(senior: User, group: dict, message: str) -> None:
    document = fixed_document()
    document["rules"]["groups"]["bad_context"] = group
    assert_refused_and_nothing_written(senior, document, message)


def assert_refused_and_nothing_written(senior: User, document: dict, message: str) -> None:
    """Publishing ``document`` answers ``invalid_request`` naming ``message``; no version
    and no audit entry is written."""
    count, audit_rows = PolicyVersion.objects.count(), AuditLogEntry.objects.count()
    with pytest.raises(ApplicationError) as raised:
        policy_publish(actor=senior, document=document, reason="bad")
    assert raised.value.code == "invalid_request"
    assert any(message in m for m in raised.value.details["document"])
    assert (PolicyVersion.objects.count(), AuditLogEntry.objects.count()) == (count, audit_rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"near": -5}, "near must be a count of characters"),
        ({"near": "far"}, "near must be a count of characters"),
        ({"near": None, "beyond": "review"}, "beyond must be one of review, with near"),
        ({"beyond": "block"}, "beyond must be one of review, with near"),
    ],
)
def test_an_invalid_combination_distance_is_refused(
    senior: User, change: dict, message: str
) -> None:
    document = fixed_document()
    combination = next(
        c for c in document["rules"]["combinations"] if c["name"] == "minor_with_sexual"
    )
    combination.update(change)
    assert_refused_and_nothing_written(senior, document, message)
