"""Legal holds, CSAM cases, retention, the statement pages, transparency and admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.csam import csam_case_close, csam_case_mark_reported, csam_case_open
from accountability.legal_holds import is_under_legal_hold, legal_hold_place, legal_hold_release
from accountability.models import AuditLogEntry, CsamCase, ReviewItem
from accountability.retention import purge_expired
from accountability.review import review_item_open
from accountability.statements import statement_create
from core.errors import ApplicationError
from tests.accountability.fixtures import make_held_job


def test_legal_holds_are_placed_released_and_audited(subscriber, senior) -> None:
    assert is_under_legal_hold(user=subscriber) is False
    hold = legal_hold_place(user=subscriber, reason="Police request 12", actor=senior)
    assert is_under_legal_hold(user=subscriber) is True
    legal_hold_release(hold=hold, reason="Request withdrawn", actor=senior)
    assert is_under_legal_hold(user=subscriber) is False
    with pytest.raises(ApplicationError) as twice:
        legal_hold_release(hold=hold, reason="again", actor=senior)
    assert twice.value.status == 409
    actions = list(AuditLogEntry.objects.values_list("action", flat=True))
    assert actions == ["legal_hold.place", "legal_hold.release"]


def test_a_csam_case_preserves_evidence_for_a_year_under_hold(subscriber, senior) -> None:
    case = csam_case_open(
        user=subscriber, decision=None, evidence={"prompt": "[redacted]", "ip_hash": "h"}
    )
    assert case.preserve_until - case.opened_at >= dt.timedelta(days=365)
    assert case.evidence["account"]["email"] == subscriber.email
    assert case.evidence["prompt"] == "[redacted]"
    assert is_under_legal_hold(user=subscriber)
    with pytest.raises(ApplicationError):
        csam_case_mark_reported(case=case, tip_number=" ", actor=senior)
    csam_case_mark_reported(case=case, tip_number="TIP-1", actor=senior)
    with pytest.raises(ApplicationError) as again:
        csam_case_mark_reported(case=case, tip_number="TIP-2", actor=senior)
    assert again.value.status == 409
    csam_case_close(case=case, actor=senior, reason="Acknowledged by NCMEC")
    case.refresh_from_db()
    assert (case.status, case.tip_number) == ("closed", "TIP-1")
    assert CsamCase.objects.count() == 1


def test_retention_purges_old_prompt_logs_and_images_except_under_hold(
    subscriber, other_user, senior, settings
) -> None:
    from moderation.models import PolicyVersion, PromptLog

    settings.IMAGEGATE_RETENTION_DAYS = 30
    version = PolicyVersion.objects.order_by("number").first()
    if version is None:
        pytest.skip("no policy version seeded by moderation's migrations")
    old = timezone.now() - dt.timedelta(days=31)
    logs = {}
    for user in (subscriber, other_user):
        logs[user.pk] = PromptLog.objects.create(
            user_id=user.pk, prompt="p", decision="allow", policy_version=version, created_at=old
        )
    fresh = PromptLog.objects.create(
        user_id=subscriber.pk, prompt="p", decision="allow", policy_version=version
    )
    images = {}
    for user in (subscriber, other_user):
        job = make_held_job(user)
        image = job.images.get()
        type(image).objects.filter(pk=image.pk).update(created_at=old)
        images[user.pk] = image
    legal_hold_place(user=other_user, reason="investigation", actor=senior)
    result = purge_expired()
    assert (result.prompt_logs, result.images) == (1, 1)
    assert not PromptLog.objects.filter(pk=logs[subscriber.pk].pk).exists()
    assert PromptLog.objects.filter(pk__in=[logs[other_user.pk].pk, fresh.pk]).count() == 2
    images[subscriber.pk].refresh_from_db()
    images[other_user.pk].refresh_from_db()
    assert images[subscriber.pk].purged_at is not None
    assert images[other_user.pk].purged_at is None
    assert purge_expired().images == 0  # idempotent
    assert AuditLogEntry.objects.filter(action="retention.purge").count() == 1


def test_the_beat_schedule_runs_the_purge(settings) -> None:
    from accountability.tasks import purge_expired as task

    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "accountability.purge_expired" in entries
    assert task.name == "accountability.purge_expired"


def test_statement_pages_show_own_statements_and_take_an_appeal(
    subscriber, other_user, client_for
) -> None:
    statement = statement_create(
        user=subscriber, subject_type="generation.job", subject_id="x", category="hate",
        decision="block", decision_ground="incompatible_content", facts="Hateful symbol.",
        automated_detection=True, automated_decision=True,
    )  # fmt: skip
    client = client_for(subscriber)
    listing = client.get(reverse("accountability:statement-list")).content.decode()
    assert reverse("accountability:statement-detail", args=[statement.pk]) in listing
    url = reverse("accountability:statement-detail", args=[statement.pk])
    page = client.get(url).content.decode()
    assert "Hateful symbol." in page and "Send appeal" in page
    assert client_for(other_user).get(url).status_code == 404
    assert client_for(other_user).post(url, {"text": "mine"}).status_code == 404
    assert client.get(reverse("accountability:statement-list")).status_code == 200
    assert client.post(url, {"text": " "}).status_code == 400
    response = client.post(url, {"text": "It is satire."})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Send appeal" not in page and "Open" in page
    assert ReviewItem.objects.filter(kind="appeal").count() == 1
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302


def test_transparency_page_is_public_and_aggregate(client_for, subscriber, moderator) -> None:
    statement_create(
        user=subscriber, subject_type="generation.job", subject_id="x", category="hate",
        decision="block", decision_ground="incompatible_content", facts="secret facts",
        automated_detection=True, automated_decision=True,
    )  # fmt: skip
    item = review_item_open(
        kind="output", subject_type="generation.job", subject_id="y", user=subscriber,
        category="hate", severity=3,
    )  # fmt: skip
    ReviewItem.objects.filter(pk=item.pk).update(
        status="decided", decided_at=item.created_at + dt.timedelta(hours=2)
    )
    response = client_for(None).get("/transparency/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<td>hate</td><td>1</td>" in body
    assert "Fully automated: <strong>1</strong>" in body
    assert "2.0 h" in body
    assert subscriber.email not in body and "secret facts" not in body


@pytest.mark.parametrize(
    ("role", "expected"),
    [("subscriber", 302), ("billing_admin", 403), ("moderator", 403), ("superuser", 200)],
)
def test_the_audit_log_admin_is_read_only_for_superusers(
    request, client_for, role, expected
) -> None:
    user = request.getfixturevalue(role)
    AuditLogEntry.objects.all().count()
    from accountability.audit import audit_record

    entry = audit_record(actor=user, action="test.entry")
    client = client_for(user)
    listing = client.get("/admin/accountability/auditlogentry/")
    assert listing.status_code == expected
    change = client.post(f"/admin/accountability/auditlogentry/{entry.pk}/change/", {"reason": "x"})
    delete = client.post(f"/admin/accountability/auditlogentry/{entry.pk}/delete/", {"post": "yes"})
    assert change.status_code in (302, 403)
    assert delete.status_code in (302, 403)
    entry.refresh_from_db()
    assert entry.reason == ""
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()
