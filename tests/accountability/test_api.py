from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from accountability.models import Appeal, Report, ReportFiling, ReviewItem
from accountability.statements import statement_create
from tests.accountability.fixtures import make_held_job


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _statement(user):
    return statement_create(
        user=user,
        subject_type="generation.job",
        subject_id="x",
        category="sexual",
        decision="block",
        decision_ground="incompatible_content",
        facts="Adult content is not in this plan.",
        automated_detection=True,
        automated_decision=True,
    )


def _succeeded_image(user):
    job = make_held_job(user)
    job.status = "succeeded"
    job.save(update_fields=["status"])
    return job.images.get()


def test_statements_list_and_detail_show_only_ones_own(subscriber, other_user) -> None:
    own = _statement(subscriber)
    foreign = _statement(other_user)
    listed = _api(subscriber).get("/api/v1/statements")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(own.pk)]
    detail = _api(subscriber).get(f"/api/v1/statements/{own.pk}").json()
    assert detail["decision_visibility"] == "content_removed"
    assert detail["automated_decision"] == "fully"
    assert (detail["can_appeal"], detail["appeal"]) == (True, None)
    for missing in (foreign.pk, uuid.uuid4(), "not-a-uuid"):
        response = _api(subscriber).get(f"/api/v1/statements/{missing}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_anonymous_requests_are_refused(subscriber) -> None:
    statement = _statement(subscriber)
    for method, url, data in (
        ("get", "/api/v1/statements", None),
        ("get", f"/api/v1/statements/{statement.pk}", None),
        ("post", "/api/v1/appeals", {"statement_id": str(statement.pk), "text": "x"}),
        ("post", "/api/v1/reports", {"image_id": str(uuid.uuid4()), "reason": "hate"}),
    ):
        response = getattr(_api(), method)(url, data, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert Appeal.objects.count() == 0 and Report.objects.count() == 0


def test_appeal_through_the_api_once(subscriber, other_user) -> None:
    statement = _statement(subscriber)
    body = {"statement_id": str(statement.pk), "text": "It is a classical painting."}
    created = _api(subscriber).post("/api/v1/appeals", body, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "open" and created.json()["outcome"] is None
    again = _api(subscriber).post("/api/v1/appeals", body, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    foreign = _api(other_user).post("/api/v1/appeals", body, format="json")
    assert foreign.status_code == 404
    invalid = _api(subscriber).post("/api/v1/appeals", {"statement_id": "x"}, format="json")
    assert invalid.status_code == 400
    assert set(invalid.json()["error"]["details"]) == {"statement_id", "text"}
    assert Appeal.objects.count() == 1
    shown = _api(subscriber).get(f"/api/v1/statements/{statement.pk}").json()
    assert (shown["can_appeal"], shown["appeal"]["status"]) == (False, "open")


def test_reports_of_one_image_merge_into_one_open_report(subscriber, other_user) -> None:
    image = _succeeded_image(subscriber)
    first = _api(subscriber).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "sexual"}, format="json"
    )
    assert first.status_code == 201
    again = _api(subscriber).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "sexual"}, format="json"
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    report = Report.objects.get()
    assert (report.report_count, report.reason) == (1, "sexual")
    # A moderator (who may see any image) reports it too, more gravely: merged, escalated.
    from tests.accountability.fixtures import make_user

    moderator = make_user(groups=("moderators",))
    third = _api(moderator).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "nonconsensual"}, format="json"
    )
    assert third.status_code == 201
    report.refresh_from_db()
    assert (report.report_count, report.reason) == (2, "nonconsensual")
    assert ReportFiling.objects.count() == 2
    item = ReviewItem.objects.get(kind="report")
    assert (item.subject_id, item.severity, item.context["report_count"]) == (str(image.pk), 4, 2)


def test_an_image_the_user_cannot_see_cannot_be_reported(subscriber, other_user) -> None:
    image = _succeeded_image(other_user)
    for image_id in (image.pk, uuid.uuid4()):
        response = _api(subscriber).post(
            "/api/v1/reports", {"image_id": str(image_id), "reason": "hate"}, format="json"
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    bad = _api(subscriber).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "boring"}, format="json"
    )
    assert bad.status_code == 400 and "reason" in bad.json()["error"]["details"]
    assert Report.objects.count() == 0 and ReviewItem.objects.count() == 0


@pytest.mark.parametrize(("scopes", "expected"), [(["read"], 403), (["report"], 201)])
def test_api_keys_need_the_report_scope(subscriber, scopes, expected) -> None:
    services = pytest.importorskip("accounts.services")
    statement = _statement(subscriber)
    created = services.api_key_create(user=subscriber, name="k", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    response = client.post(
        "/api/v1/appeals", {"statement_id": str(statement.pk), "text": "x"}, format="json"
    )
    assert response.status_code == expected
    assert Appeal.objects.count() == (1 if expected == 201 else 0)


def test_deciding_a_report(subscriber, other_user) -> None:
    from accountability.decisions import review_decide
    from tests.accountability.fixtures import make_user

    moderator = make_user(groups=("moderators",))
    image = _succeeded_image(subscriber)
    _api(subscriber).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "hate"}, format="json"
    )
    item = ReviewItem.objects.get(kind="report")
    assert item.user == subscriber
    review_decide(
        item=item, moderator=moderator, action="approve", reason_template="report_unfounded",
        reason_text="A cartoon.",
    )  # fmt: skip
    report = Report.objects.get()
    assert (report.status, report.outcome) == ("decided", "no_action")
    image.job.refresh_from_db()
    assert image.job.status == "succeeded"
    # A new report of the same image opens a new report.
    _api(subscriber).post(
        "/api/v1/reports", {"image_id": str(image.pk), "reason": "hate"}, format="json"
    )
    assert Report.objects.filter(status="open").count() == 1
