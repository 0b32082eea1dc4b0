"""Stripe Identity through the real stripe library, only its HTTP transport replaced."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accountability.models import AuditLogEntry
from accounts.models import (
    AgeVerification,
    AgeVerificationFlag,
    IdentityEvent,
    User,
)
from devstripe.models import OfflineIdentitySession
from tests.accounts.conftest import IDENTITY_KEY, SECRET_KEY, FakeStripe, signed_event
from tests.accounts.factories import UserFactory

WEBHOOK = "/accounts/stripe/identity-webhook/"
DECLARED = dt.date(1990, 5, 17)


def _start(user: User) -> str:
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/age-verification")
    assert response.status_code == 200, response.content
    return str(response.json()["url"])


def _deliver(client: Client, event_id: str, event_type: str, session: dict) -> dict:
    payload, signature = signed_event(event_id=event_id, event_type=event_type, session=session)
    response = client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


@pytest.mark.django_db
def test_start_creates_a_document_session_and_answers_its_url(fake_stripe: FakeStripe) -> None:
    user = UserFactory.create()
    url = _start(user)
    assert url == "https://verify.stripe.test/start/vs_test_1"
    call = fake_stripe.calls[0]
    assert (call["method"], call["url"]) == (
        "POST",
        "https://stripe.test/v1/identity/verification_sessions",
    )
    assert call["authorization"] == f"Bearer {SECRET_KEY}"
    assert call["form"]["type"] == "document"
    assert call["form"]["client_reference_id"] == str(user.pk)
    assert call["form"]["return_url"].endswith("/account/age-verification/return/")
    user.refresh_from_db()
    assert user.age_verification_status == "pending"
    verification = AgeVerification.objects.get(user=user)
    assert (verification.session_id, verification.outcome) == ("vs_test_1", "pending")


@pytest.mark.django_db
def test_verified_session_verifies_the_adult_and_keeps_no_date_of_birth(
    client: Client, fake_stripe: FakeStripe
) -> None:
    user = UserFactory.create(date_of_birth=DECLARED)
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17))
    body = _deliver(
        client,
        "evt_1",
        "identity.verification_session.verified",
        {"id": "vs_test_1", "object": "identity.verification_session", "status": "verified"},
    )
    assert body == {"received": True, "result": "verified"}
    retrieve = fake_stripe.calls[-1]
    assert retrieve["method"] == "GET"
    assert retrieve["path"] == "/v1/identity/verification_sessions/vs_test_1"
    assert ("expand[0]", "verified_outputs.dob") in retrieve["query"]
    assert retrieve["authorization"] == f"Bearer {IDENTITY_KEY}"
    user.refresh_from_db()
    assert user.is_age_verified and user.age_verified_at is not None
    verification = AgeVerification.objects.get(user=user)
    assert verification.outcome == "verified"
    assert verification.method == "stripe_identity"
    assert verification.checked_at is not None
    assert verification.min_age == 18
    assert not AgeVerificationFlag.objects.exists()
    # Nothing from the document is stored anywhere in the accounts tables.
    stored = [
        str(value)
        for model in (AgeVerification, IdentityEvent)
        for row in model.objects.values()
        for value in row.values()
    ]
    # The year as a value of its own, not four digits inside a UUID or a hash (a random
    # id holds "1990" now and then).
    year = re.compile(r"(?<![0-9a-fA-F-])1990(?![0-9a-fA-F])")
    assert not any(year.search(value) or "Person" in value for value in stored)
    assert AuditLogEntry.objects.filter(action="accounts.age_verification.identity").count() == 1


@pytest.mark.django_db
def test_mismatched_date_of_birth_is_flagged_for_senior_review(
    client: Client, fake_stripe: FakeStripe
) -> None:
    user = UserFactory.create(date_of_birth=DECLARED)
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1988, 1, 2))
    _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})
    user.refresh_from_db()
    assert user.is_age_verified
    flag = AgeVerificationFlag.objects.get(user=user)
    assert (flag.reason, flag.status) == ("dob_mismatch", "open")


@pytest.mark.django_db
def test_verified_under_the_minimum_age_fails_and_is_flagged(
    client: Client, fake_stripe: FakeStripe
) -> None:
    user = UserFactory.create(date_of_birth=DECLARED, country="US", region="US-MS")
    _start(user)
    this_year = dt.date.today().year
    fake_stripe.settle("vs_test_1", "verified", dob=(this_year - 20, 1, 1))
    body = _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})
    assert body["result"] == "under_age"
    user.refresh_from_db()
    assert user.age_verification_status == "failed"
    assert AgeVerification.objects.get(user=user).min_age == 21
    assert set(AgeVerificationFlag.objects.values_list("reason", flat=True)) == {
        "dob_mismatch",
        "under_age",
    }


@pytest.mark.django_db
def test_failed_session_marks_the_attempt_failed(client: Client, fake_stripe: FakeStripe) -> None:
    user = UserFactory.create()
    _start(user)
    body = _deliver(
        client,
        "evt_2",
        "identity.verification_session.requires_input",
        {"id": "vs_test_1", "status": "requires_input", "last_error": {"code": "document_expired"}},
    )
    assert body["result"] == "requires_input"
    user.refresh_from_db()
    assert user.age_verification_status == "failed"
    assert AgeVerification.objects.get(user=user).outcome == "requires_input"
    # No retrieve call: the payload carried everything needed.
    assert [call["method"] for call in fake_stripe.calls] == ["POST"]


@pytest.mark.django_db
def test_canceled_session_returns_to_unverified(client: Client, fake_stripe: FakeStripe) -> None:
    user = UserFactory.create()
    _start(user)
    _deliver(client, "evt_3", "identity.verification_session.canceled", {"id": "vs_test_1"})
    user.refresh_from_db()
    assert user.age_verification_status == "unverified"


@pytest.mark.django_db
def test_replayed_event_is_processed_once(client: Client, fake_stripe: FakeStripe) -> None:
    user = UserFactory.create(date_of_birth=DECLARED)
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1988, 1, 2))
    session = {"id": "vs_test_1"}
    first = _deliver(client, "evt_1", "identity.verification_session.verified", session)
    calls = len(fake_stripe.calls)
    second = _deliver(client, "evt_1", "identity.verification_session.verified", session)
    assert (first["result"], second["result"]) == ("verified", "duplicate")
    assert len(fake_stripe.calls) == calls  # the replay did not even call Stripe
    assert IdentityEvent.objects.count() == 1
    assert AgeVerificationFlag.objects.count() == 1
    assert AuditLogEntry.objects.filter(action="accounts.age_verification.identity").count() == 1


@pytest.mark.django_db
def test_late_failure_event_does_not_undo_a_verification(
    client: Client, fake_stripe: FakeStripe
) -> None:
    user = UserFactory.create(date_of_birth=DECLARED)
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17))
    _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})
    body = _deliver(
        client, "evt_0", "identity.verification_session.requires_input", {"id": "vs_test_1"}
    )
    assert body["result"] == "stale"
    user.refresh_from_db()
    assert user.is_age_verified


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", None],
)
def test_bad_signature_is_400_and_stores_nothing(
    client: Client, fake_stripe: FakeStripe, signature: str | None
) -> None:
    user = UserFactory.create()
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17))
    payload, _ = signed_event(
        event_id="evt_bad",
        event_type="identity.verification_session.verified",
        session={"id": "vs_test_1"},
    )
    if signature is None:  # signed with another secret
        _, signature = signed_event(
            event_id="evt_bad",
            event_type="identity.verification_session.verified",
            session={"id": "vs_test_1"},
            secret="whsec_someone_else",
        )
    calls = len(fake_stripe.calls)
    response = client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert IdentityEvent.objects.count() == 0
    user.refresh_from_db()
    assert user.age_verification_status == "pending"
    assert AgeVerification.objects.get(user=user).outcome == "pending"
    assert len(fake_stripe.calls) == calls


@pytest.mark.django_db
def test_changed_body_with_a_valid_signature_is_refused(
    client: Client, fake_stripe: FakeStripe
) -> None:
    payload, signature = signed_event(
        event_id="evt_x",
        event_type="identity.verification_session.canceled",
        session={"id": "vs_1"},
    )
    response = client.post(
        WEBHOOK,
        payload.replace(b"vs_1", b"vs_2"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert IdentityEvent.objects.count() == 0


@pytest.mark.django_db
def test_stripe_outage_on_retrieve_stores_nothing_so_stripe_retries(
    client: Client, fake_stripe: FakeStripe
) -> None:
    user = UserFactory.create()
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17))
    fake_stripe.fail_with = 500
    payload, signature = signed_event(
        event_id="evt_1",
        event_type="identity.verification_session.verified",
        session={"id": "vs_test_1"},
    )
    response = client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 503
    assert IdentityEvent.objects.count() == 0
    fake_stripe.fail_with = None
    assert (
        _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})[
            "result"
        ]
        == "verified"
    )


@pytest.mark.django_db
def test_unknown_session_and_other_event_types_are_recorded_and_ignored(
    client: Client, fake_stripe: FakeStripe
) -> None:
    assert (
        _deliver(client, "evt_a", "identity.verification_session.verified", {"id": "vs_nobody"})[
            "result"
        ]
        == "unknown_session"
    )
    assert (
        _deliver(client, "evt_b", "identity.verification_session.processing", {"id": "vs_nobody"})[
            "result"
        ]
        == "ignored"
    )
    assert IdentityEvent.objects.count() == 2
    assert fake_stripe.calls == []


@pytest.mark.django_db
def test_start_is_refused_when_verified_or_email_unverified(fake_stripe: FakeStripe) -> None:
    api = APIClient()
    verified = UserFactory.create(age_verification_status="verified")
    api.force_authenticate(verified)
    response = api.post("/api/v1/age-verification")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    unverified_email = UserFactory.create(email_verified=False)
    api.force_authenticate(unverified_email)
    response = api.post("/api/v1/age-verification")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "email_unverified")
    assert fake_stripe.calls == []
    assert AgeVerification.objects.count() == 0


@pytest.mark.django_db
def test_start_answers_503_when_stripe_is_down(fake_stripe: FakeStripe) -> None:
    fake_stripe.fail_with = 500
    user = UserFactory.create()
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/age-verification")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    assert AgeVerification.objects.count() == 0
    user.refresh_from_db()
    assert user.age_verification_status == "unverified"


@pytest.mark.django_db
def test_anonymous_start_is_401() -> None:
    response = APIClient().post("/api/v1/age-verification")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


# --- the offline stand-in (SPEC §10) -----------------------------------------------


@pytest.mark.django_db
def test_offline_journey_verifies_through_the_same_webhook_handler(
    client: Client, settings
) -> None:
    assert settings.STRIPE_OFFLINE
    user = UserFactory.create(date_of_birth=DECLARED)
    client.force_login(user)
    response = client.post("/account/age-verification/start/")
    assert response.status_code == 302
    path = response["Location"].removeprefix(settings.SITE_URL.rstrip("/"))
    assert path.startswith("/accounts/identity/offline/vs_offline_")
    page = client.get(path)
    assert page.status_code == 200
    assert b"offline stand-in" in page.content
    response = client.post(path, {"outcome": "verified", "date_of_birth": "1990-05-17"})
    assert response.status_code == 302
    assert response["Location"].endswith("/account/age-verification/return/")
    user.refresh_from_db()
    assert user.is_age_verified
    event = IdentityEvent.objects.get()
    assert event.type == "identity.verification_session.verified"
    assert event.result == "verified"
    assert client.get("/account/age-verification/return/").status_code == 200
    # The session cannot be settled twice.
    client.post(path, {"outcome": "failed"})
    assert IdentityEvent.objects.count() == 1


@pytest.mark.django_db
def test_offline_webhook_signature_is_checked(client: Client, settings) -> None:
    user = UserFactory.create()
    client.force_login(user)
    path = client.post("/account/age-verification/start/")["Location"]
    path = path.removeprefix(settings.SITE_URL.rstrip("/"))
    settings.STRIPE_IDENTITY_WEBHOOK_SECRET = "whsec_rotated"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_rotated"
    client.post(path, {"outcome": "verified", "date_of_birth": "1990-05-17"})
    assert IdentityEvent.objects.count() == 1  # signed with the current secret: accepted


@pytest.mark.django_db
@pytest.mark.parametrize(("outcome", "status"), [("failed", "failed"), ("canceled", "unverified")])
def test_offline_failure_and_cancel(client: Client, settings, outcome: str, status: str) -> None:
    user = UserFactory.create()
    client.force_login(user)
    path = client.post("/account/age-verification/start/")["Location"]
    path = path.removeprefix(settings.SITE_URL.rstrip("/"))
    client.post(path, {"outcome": outcome})
    user.refresh_from_db()
    assert user.age_verification_status == status


@pytest.mark.django_db
def test_offline_page_of_someone_else_is_404(client: Client) -> None:
    owner = UserFactory.create()
    OfflineIdentitySession.objects.create(id="vs_offline_x", client_reference_id=str(owner.pk))
    client.force_login(UserFactory.create())
    assert client.get("/accounts/identity/offline/vs_offline_x/").status_code == 404
    assert (
        client.post("/accounts/identity/offline/vs_offline_x/", {"outcome": "failed"}).status_code
        == 404
    )


@pytest.mark.django_db
def test_offline_page_is_404_when_stripe_is_configured(client: Client, fake_stripe) -> None:
    owner = UserFactory.create()
    OfflineIdentitySession.objects.create(id="vs_offline_x", client_reference_id=str(owner.pk))
    client.force_login(owner)
    assert client.get("/accounts/identity/offline/vs_offline_x/").status_code == 404


@pytest.mark.django_db
def test_manual_verification_by_a_senior_moderator_is_audited(client: Client) -> None:
    from tests.accounts.factories import enrol_totp

    member = UserFactory.create()
    senior = UserFactory.create(groups=["senior_moderators"], is_staff=True)
    enrol_totp(senior)
    client.force_login(senior)
    url = f"/account/staff/age-verification/{member.pk}/"
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"is_verified": "yes", "evidence_note": "Passport seen on video call"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_age_verified
    verification = AgeVerification.objects.get(user=member)
    assert (verification.method, verification.decided_by) == ("manual", senior)
    entry = AuditLogEntry.objects.get(action="accounts.age_verification.manual")
    assert entry.actor_id == senior.pk and entry.reason == "Passport seen on video call"


@pytest.mark.django_db
@pytest.mark.parametrize("groups", [[], ["moderators"], ["billing_admins"]])
def test_manual_verification_is_refused_to_others(client: Client, groups) -> None:
    from tests.accounts.factories import enrol_totp

    member = UserFactory.create()
    actor = UserFactory.create(groups=groups)
    enrol_totp(actor)
    client.force_login(actor)
    url = f"/account/staff/age-verification/{member.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"is_verified": "yes", "evidence_note": "x"}).status_code == 404
    member.refresh_from_db()
    assert member.age_verification_status == "unverified"
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_senior_moderator_cannot_verify_themselves(client: Client) -> None:
    from accounts.services import age_verification_record_manual
    from core.errors import ApplicationError

    senior = UserFactory.create(groups=["senior_moderators"])
    with pytest.raises(ApplicationError):
        age_verification_record_manual(
            user=senior, actor=senior, is_verified=True, evidence_note="me"
        )
    assert not AgeVerification.objects.exists()


@pytest.mark.django_db
def test_senior_moderator_resolves_a_flag(client: Client, fake_stripe: FakeStripe) -> None:
    from tests.accounts.factories import enrol_totp

    user = UserFactory.create(date_of_birth=DECLARED)
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1988, 1, 2))
    _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})
    flag = AgeVerificationFlag.objects.get()
    senior = UserFactory.create(groups=["senior_moderators"])
    enrol_totp(senior)
    client.force_login(senior)
    response = client.post(
        f"/account/staff/age-verification-flags/{flag.pk}/resolve/", {"note": "Typo at sign-up"}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolution_note) == (
        "resolved",
        senior,
        "Typo at sign-up",
    )
    assert (
        AuditLogEntry.objects.filter(action="accounts.age_verification_flag.resolve").count() == 1
    )


@pytest.mark.django_db
def test_verified_document_country_sets_the_jurisdiction(
    client: Client, fake_stripe: FakeStripe
) -> None:
    """Declared Germany and Bavaria, document address in the US: the country follows the
    document and the German region, which no longer applies, is dropped."""
    user = UserFactory.create(date_of_birth=DECLARED, country="DE", region="DE-BY")
    _start(user)
    fake_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17), country="us")
    _deliver(client, "evt_1", "identity.verification_session.verified", {"id": "vs_test_1"})
    user.refresh_from_db()
    assert (user.country, user.region) == ("US", "")
    assert user.is_age_verified
