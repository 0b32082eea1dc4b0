"""Export and erasure match the words shown to the user: every model that refers to a
user is exported (or named, with its reason, as not exported), and erasure leaves
none of the person's identifiers or free text outside what a legal hold keeps."""

from __future__ import annotations

import json

from django.apps import apps
from django.conf import settings

from accounts.personal_data import NOT_EXPORTED, PERSONAL_DATA, STAFF_FIELDS, rows_about
from accounts.privacy import user_erase, user_export
from tests.security.world import build_world

# Models that name a user by a plain id, not a foreign key.
USER_ID_FIELDS = {"moderation.PromptLog": "user_id", "accountability.AuditLogEntry": "actor_id"}


def _user_references() -> set[tuple[str, str]]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                found.add((model._meta.label, field.name))
    found |= set(USER_ID_FIELDS.items())
    return found


def test_every_model_that_refers_to_a_user_is_exported_or_named() -> None:
    exported = {(entry.model, entry.subject) for entry in PERSONAL_DATA}
    missing = []
    for label, field_name in sorted(_user_references()):
        if (label, field_name) in exported or label in NOT_EXPORTED:
            continue
        if field_name in STAFF_FIELDS:
            continue
        if label == "accountability.AuditLogEntry":
            continue  # pseudonymous by construction: see test_erasure_* below
        missing.append(f"{label}.{field_name}")
    assert missing == [], "add these to accounts/personal_data.py"


def test_the_export_holds_every_row_about_the_person(db) -> None:
    world = build_world()
    subscriber = world.user("subscriber")
    from moderation.models import PromptLog, Strike
    from moderation.policy import policy_current

    Strike.objects.create(user=subscriber, category="hate", severity=2)
    PromptLog.objects.create(
        user_id=subscriber.pk,
        prompt="my secret prompt",
        decision="allow",
        policy_version=policy_current(),
    )
    export = json.loads(json.dumps(user_export(user=subscriber)))
    for entry in PERSONAL_DATA:
        expected = len(rows_about(entry, user=subscriber))
        section = export[entry.section]
        count = len(section) if isinstance(section, list) else int(bool(section))
        assert count == expected, entry.model
    assert export["prompt_log"][0]["prompt"] == "my secret prompt"
    assert len(export["statements"]) == 1 and len(export["appeals"]) == 1
    assert len(export["strikes"]) == 1
    assert "key_hash" not in json.dumps(export)


def test_erasure_removes_identifiers_and_free_text_everywhere(db) -> None:
    from accountability.audit import audit_record, audit_verify_chain
    from accountability.models import Appeal, AuditLogEntry, ReviewItem
    from accountability.reports import report_file
    from generation.models import GeneratedImage
    from moderation.models import PromptLog
    from moderation.policy import policy_current

    world = build_world()
    subscriber = world.user("subscriber")
    other = world.user("other_subscriber")
    email = subscriber.email
    PromptLog.objects.create(
        user_id=subscriber.pk,
        prompt="my secret prompt",
        normalized_prompt="my secret prompt",
        ip_hash="abc",
        decision="block",
        policy_version=policy_current(),
    )
    image = GeneratedImage.objects.get(pk=world.values["image_id"])
    report_file(
        reporter=subscriber,
        image_id=str(image.pk),
        reason="other",
        details="my secret report",
        share_token=world.values["token"],
    )
    audit_record(actor=subscriber, action="test.did", target=other, reason="x")
    user_erase(user=subscriber)

    everything: list[dict[str, object]] = []
    for entry in PERSONAL_DATA:
        everything.extend(rows_about(entry, user=subscriber))
    everything.extend(dict(row) for row in AuditLogEntry.objects.values())
    dump = json.dumps(everything, default=str)
    for secret in (email, "my secret prompt", "my secret report", "a storm", "my secret appeal"):
        assert secret not in dump, secret
    assert Appeal.objects.get(user=subscriber).text == ""
    contexts = ReviewItem.objects.filter(user=subscriber).values_list("context", flat=True)
    assert list(contexts) == [{}] * len(contexts)
    assert audit_verify_chain() is None


def test_a_legal_hold_keeps_the_evidence(db) -> None:
    from accountability.csam import csam_case_open
    from accountability.models import CsamCase
    from moderation.models import PromptLog
    from moderation.policy import policy_current
    from tests.accountability.fixtures import make_user

    held = make_user("held@example.com")
    csam_case_open(user=held, decision=None, evidence={"prompt": "evidence prompt"})
    PromptLog.objects.create(
        user_id=held.pk, prompt="evidence prompt", decision="block", policy_version=policy_current()
    )
    result = user_erase(user=held)
    assert result.under_legal_hold
    assert PromptLog.objects.get(user_id=held.pk).prompt == "evidence prompt"
    assert CsamCase.objects.get(user=held).evidence["prompt"] == "evidence prompt"
    assert any("legal obligation" in line for line in result.kept)
