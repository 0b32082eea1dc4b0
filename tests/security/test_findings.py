"""Each 5xx and access finding of issue 13, as a test that failed before its fix."""

from __future__ import annotations

import json
import uuid

import pytest
import stripe
from django.conf import settings
from django.test import Client

from accounts.models import AgeVerification
from tests.security.conftest import error_code, row_counts

DEEP = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000

JSON_POSTS = [
    "/api/v1/generations",
    "/api/v1/appeals",
    "/api/v1/reports",
    "/api/v1/api-keys",
    "/api/v1/age-verification",
]
WEBHOOKS = {
    "/billing/stripe/webhook/": lambda: settings.STRIPE_WEBHOOK_SECRET,
    "/accounts/stripe/identity-webhook/": lambda: settings.STRIPE_IDENTITY_WEBHOOK_SECRET,
}


def signature(body: str, secret: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("path", JSON_POSTS)
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(
    subscriber, session_for, path, body
) -> None:
    before = row_counts()
    response = session_for(subscriber).post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("path", list(WEBHOOKS))
def test_deeply_nested_json_is_a_400_envelope_on_both_webhooks(db, path, body) -> None:
    before = row_counts()
    response = Client(raise_request_exception=False).post(
        path,
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature(body, WEBHOOKS[path]())},
    )
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


@pytest.mark.parametrize("body", ["[]", '[{"id": "evt_1"}]', '"text"', "42", "null"])
@pytest.mark.parametrize("path", list(WEBHOOKS))
def test_a_signed_webhook_body_that_is_not_an_object_is_a_400(db, path, body) -> None:
    before = row_counts()
    response = Client(raise_request_exception=False).post(
        path,
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature(body, WEBHOOKS[path]())},
    )
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


HUGE = 20 * 1024 * 1024


@pytest.mark.parametrize("path", [*JSON_POSTS, *WEBHOOKS])
def test_a_20_mb_json_body_is_a_400(subscriber, session_for, path) -> None:
    body = '{"prompt": "' + "a" * HUGE + '"}'
    before = row_counts()
    response = session_for(subscriber).post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
@pytest.mark.parametrize("path", [*JSON_POSTS, *WEBHOOKS, "/account/reports/"])
def test_200k_keys_is_a_400(subscriber, session_for, path, content_type) -> None:
    if content_type == "application/json":
        body = json.dumps({f"k{i}": 1 for i in range(200_000)})
    else:
        body = "&".join(f"k{i}=1" for i in range(200_000))
    before = row_counts()
    response = session_for(subscriber).post(path, body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response.status_code != 404
    assert row_counts() == before


def test_a_20_mb_form_on_a_page_is_the_400_page(subscriber, session_for) -> None:
    response = session_for(subscriber).post(
        "/account/reports/", {"details": "x" * HUGE, "reason": "other"}
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad request" in response.content


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/v1/me", "/moderation/"])
def test_a_bad_host_is_the_400_page_not_a_server_error(db, path) -> None:
    response = Client(raise_request_exception=False).get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert error_code(response) == "invalid_request"
    else:
        assert b"Bad request" in response.content


def test_the_500_page_renders_without_a_user(rf) -> None:
    from core.views import bad_request, server_error

    request = rf.get("/somewhere/")
    assert not hasattr(request, "user")
    assert server_error(request).status_code == 500
    assert bad_request(request).status_code == 400


def _statement(user):
    from accountability.statements import statement_create

    return statement_create(
        user=user,
        subject_type="generation.job",
        subject_id=str(uuid.uuid4()),
        category="hate",
        decision="content_blocked",
        decision_ground="incompatible_content",
        facts="f",
        automated_detection=True,
        automated_decision=True,
        decided_by=None,
    )


def test_a_nul_byte_in_the_web_appeal_form_is_a_400(subscriber, session_for) -> None:
    statement = _statement(subscriber)
    before = row_counts()
    response = session_for(subscriber).post(
        f"/account/statements/{statement.pk}/", {"text": "I disagree\x00 strongly"}
    )
    assert response.status_code == 400
    assert row_counts() == before


def test_a_nul_byte_in_the_web_report_form_is_a_400(subscriber, session_for) -> None:
    before = row_counts()
    response = session_for(subscriber).post(
        "/account/reports/",
        {"image_id": str(uuid.uuid4()), "reason": "other", "details": "bad\x00image"},
    )
    assert response.status_code == 400
    assert row_counts() == before


def _policy_post(client, mutate):
    from moderation.policy import policy_current

    document = json.loads(json.dumps(policy_current().document))
    mutate(document)
    return client.post(
        "/moderation/policy/", {"document": json.dumps(document), "reason": "test change"}
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["strikes"].__setitem__("window_days", 10_000_000_000),
        lambda d: d["strikes"].__setitem__("cooldown_hours", 10**15),
        lambda d: d["strikes"].__setitem__("suspend_at", 2**70),
        lambda d: (
            d["rules"]["terms"].setdefault("hate", []).append("bad\x00term")
            if isinstance(d["rules"].get("terms"), dict)
            else d["adult_content"]["plans"].append("pro\x00")
        ),
        lambda d: d["adult_content"]["plans"].append("pro\x00"),
    ],
    ids=["window_days", "cooldown_hours", "suspend_at", "nul_term", "nul_plan"],
)
def test_the_policy_editor_refuses_out_of_range_numbers_and_nul(senior, session_for, mutate):
    from moderation.models import PolicyVersion

    versions = PolicyVersion.objects.count()
    response = _policy_post(session_for(senior), mutate)
    assert response.status_code == 400
    assert PolicyVersion.objects.count() == versions


def test_the_policy_editor_refuses_deeply_nested_json(senior, session_for) -> None:
    from moderation.models import PolicyVersion

    versions = PolicyVersion.objects.count()
    response = session_for(senior).post("/moderation/policy/", {"document": DEEP, "reason": "test"})
    assert response.status_code == 400
    assert PolicyVersion.objects.count() == versions


def test_a_read_only_key_cannot_start_age_verification(member, key_for) -> None:
    response = key_for(member, ["read"]).post("/api/v1/age-verification")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert AgeVerification.objects.filter(user=member).count() == 0


def test_me_reports_the_active_strike_weight(subscriber, key_for) -> None:
    from moderation.models import Strike

    Strike.objects.create(user=subscriber, category="hate", severity=3)
    Strike.objects.create(user=subscriber, category="violence_graphic", severity=1)
    revoked = Strike.objects.create(user=subscriber, category="hate", severity=5)
    revoked.revoked_at = revoked.created_at
    revoked.save()
    response = key_for(subscriber, ["read"]).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["strikes"] == 4


def test_billing_admins_do_not_see_moderation_outcomes_in_the_ledger(
    subscriber, billing_admin, session_for
) -> None:
    from billing.credits import credits_release, credits_reserve

    job_id = uuid.uuid4()
    credits_reserve(user=subscriber, amount=2, reference=f"generation:{job_id}")
    credits_release(reference=f"generation:{job_id}", reason="review_rejected")
    client = session_for(billing_admin)
    listing = client.get("/admin/billing/creditledgerentry/")
    assert listing.status_code == 200
    assert b"review_rejected" not in listing.content
    assert str(job_id).encode() not in listing.content
    assert b"generation not delivered: refunded" in listing.content
    from billing.models import CreditLedgerEntry

    entry = CreditLedgerEntry.objects.get(kind="release")
    detail = client.get(f"/admin/billing/creditledgerentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b"review_rejected" not in detail.content
    assert str(job_id).encode() not in detail.content
    searched = client.get("/admin/billing/creditledgerentry/", {"q": str(job_id)})
    assert b"1 result" not in searched.content and b"review_rejected" not in searched.content
