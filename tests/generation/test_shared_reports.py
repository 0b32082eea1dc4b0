"""Reports from signed-out visitors of a shared page (DSA Art. 16), and every notifier
hearing the outcome (Art. 16(5))."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from accountability.models import AuditLogEntry, Report, ReportFiling, ReviewItem
from generation.models import ShareLink
from tests.generation.conftest import delivered_image, make_adult

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shared(subscriber):
    image = delivered_image(subscriber)
    owner = Client()
    owner.force_login(subscriber)
    owner.post(f"/studio/images/{image.pk}/share")
    return image, ShareLink.objects.get(image=image).token


def _report(client: Client, image, token: str, **fields: str):
    body = {"image_id": str(image.pk), "share_token": token, "reason": "violence_graphic"}
    return client.post("/account/reports/", {**body, **fields})


def test_a_signed_out_visitor_sees_the_report_form_with_name_and_email(shared) -> None:
    _image, token = shared
    page = Client().get(f"/s/{token}/").content.decode()
    assert 'name="reason"' in page
    assert 'name="notifier_name"' in page and 'name="notifier_email"' in page
    assert "Log in to report" not in page


def test_a_signed_in_visitor_is_not_asked_for_name_or_email(shared) -> None:
    _image, token = shared
    viewer = Client()
    viewer.force_login(make_adult())
    page = viewer.get(f"/s/{token}/").content.decode()
    assert 'name="reason"' in page and 'name="notifier_email"' not in page


def test_a_signed_out_report_is_filed_with_the_notifiers_address(shared, subscriber) -> None:
    image, token = shared
    response = _report(
        Client(), image, token, notifier_name="Ana Lima", notifier_email="Ana@Example.org"
    )
    assert response.status_code == 302 and response["Location"] == f"/s/{token}/"
    report = Report.objects.get()
    assert (report.image_id, report.reason, report.report_count) == (
        image.pk,
        "violence_graphic",
        1,
    )
    filing = ReportFiling.objects.get()
    assert (filing.reporter, filing.notifier_name, filing.notifier_email) == (
        None,
        "Ana Lima",
        "ana@example.org",
    )
    item = ReviewItem.objects.get(kind="report")
    assert item.subject_id == str(image.pk) and item.user == subscriber
    entry = AuditLogEntry.objects.get(action="report.file")
    assert entry.actor_id is None and entry.after["notifier"] == "anonymous"


def test_the_same_address_counts_once_and_another_address_counts_again(shared) -> None:
    image, token = shared
    for _ in range(2):
        _report(Client(), image, token, notifier_name="A", notifier_email="a@example.org")
    _report(Client(), image, token, notifier_name="B", notifier_email="b@example.org")
    assert Report.objects.get().report_count == 2
    assert ReportFiling.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"notifier_name": "Ana", "notifier_email": ""}, "Give an email address"),
        ({"notifier_name": "", "notifier_email": "ana@example.org"}, "Give your name"),
        ({"notifier_name": "Ana", "notifier_email": "not-an-address"}, "valid email"),
        ({"notifier_name": "A" * 201, "notifier_email": "a@example.org"}, "200 characters"),
        (
            {"notifier_name": "Ana", "notifier_email": "a@example.org", "reason": "nonsense"},
            "Choose a reason",
        ),
    ],
)
def test_a_signed_out_report_without_what_the_law_asks_is_refused_and_nothing_kept(
    shared, fields, message
) -> None:
    image, token = shared
    response = _report(Client(), image, token, **fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Report not sent" in page and message in page and f"/s/{token}/" in page
    assert Report.objects.count() == 0 and ReportFiling.objects.count() == 0
    assert ReviewItem.objects.count() == 0


def test_a_report_of_sexual_content_with_minors_may_be_anonymous(shared) -> None:
    image, token = shared
    _report(Client(), image, token, reason="sexual_minors")
    _report(Client(), image, token, reason="sexual_minors")
    report = Report.objects.get()
    assert (report.reason, report.report_count) == ("sexual_minors", 2)
    assert list(ReportFiling.objects.values_list("notifier_email", flat=True)) == ["", ""]


def test_a_wrong_or_revoked_link_is_a_404_and_nothing_is_filed(shared, subscriber) -> None:
    image, token = shared
    fields = {"notifier_name": "Ana", "notifier_email": "a@example.org"}
    assert _report(Client(), image, "wrong-token", **fields).status_code == 404
    ShareLink.objects.filter(token=token).update(revoked_at="2026-01-01T00:00:00Z")
    assert _report(Client(), image, token, **fields).status_code == 404
    assert Report.objects.count() == 0


def test_without_a_share_link_a_signed_out_report_goes_to_the_login_page(shared) -> None:
    image, _token = shared
    response = Client().post("/account/reports/", {"image_id": str(image.pk), "reason": "sexual"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Report.objects.count() == 0


@override_settings(REPORTS_ANONYMOUS_PER_IP=2)
def test_signed_out_reports_are_limited_per_address(shared) -> None:
    image, token = shared
    for n in range(2):
        response = _report(
            Client(), image, token, notifier_name="N", notifier_email=f"n{n}@example.org"
        )
        assert response.status_code == 302
    refused = _report(Client(), image, token, notifier_name="N", notifier_email="x@example.org")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many reports" in refused.content.decode()
    assert "Report not sent" not in refused.content.decode()
    assert ReportFiling.objects.count() == 2 and Report.objects.get().report_count == 2


def test_every_notifier_with_an_address_hears_the_outcome_once(
    shared, subscriber, django_capture_on_commit_callbacks
) -> None:
    from accountability.decisions import review_decide
    from accountability.reports import reports_notify_pending
    from accountability.review import review_claim_next
    from accountability.tasks import notify_reporters
    from tests.accounts.factories import enrol_totp

    image, token = shared
    viewer = make_adult("viewer@example.com")
    signed_in = Client()
    signed_in.force_login(viewer)
    _report(signed_in, image, token)
    _report(Client(), image, token, notifier_name="Ana", notifier_email="ana@example.org")
    _report(Client(), image, token, reason="sexual_minors")  # anonymous: nobody to tell
    moderator = make_adult("mod-notify@example.com")
    from django.contrib.auth.models import Group

    moderator.groups.add(Group.objects.get_or_create(name="moderators")[0])
    enrol_totp(moderator)
    item = review_claim_next(moderator=moderator)
    assert item is not None and item.kind == "report"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        review_decide(
            item=item, moderator=moderator, action="approve",
            reason_template="report_unfounded", reason_text="A landscape.",
        )  # fmt: skip
    assert len(callbacks) == 1 and mail.outbox == []  # the notice is sent after the commit
    # What the worker runs when the task arrives:
    assert notify_reporters(str(Report.objects.get().pk)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "viewer@example.com"]
    assert all("does not break our content policy" in m.body for m in mail.outbox)
    assert ReportFiling.objects.filter(notified_at__isnull=True).count() == 0
    # Re-delivered task and the periodic sweep: nobody is told twice.
    assert notify_reporters(str(Report.objects.get().pk)) == 0
    assert reports_notify_pending(older_than_seconds=0) == 0
    assert len(mail.outbox) == 2


def test_the_sweep_tells_notifiers_whose_notice_was_lost(shared, subscriber) -> None:
    from django.utils import timezone

    image, token = shared
    _report(Client(), image, token, notifier_name="Ana", notifier_email="ana@example.org")
    # A decision whose on-commit task never ran (the broker was down).
    Report.objects.update(status="decided", outcome="reject", decided_at=timezone.now())
    mail.outbox.clear()
    assert reports_pending_after(0) == 1
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert "has been removed" in mail.outbox[0].body
    assert reports_pending_after(0) == 0


def reports_pending_after(seconds: int) -> int:
    from accountability.reports import reports_notify_pending

    return reports_notify_pending(older_than_seconds=seconds)


def test_a_signed_in_report_with_an_unknown_reason_is_a_400_and_nothing_kept(
    shared, subscriber
) -> None:
    image, token = shared
    viewer = Client()
    viewer.force_login(make_adult())
    response = _report(viewer, image, token, reason="not-a-reason")
    assert response.status_code == 400
    assert "Choose a reason from the list." in response.content.decode()
    assert Report.objects.count() == 0 and ReviewItem.objects.count() == 0
