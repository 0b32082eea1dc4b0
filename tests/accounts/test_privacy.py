from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from rest_framework.test import APIClient

from accountability.models import AuditLogEntry
from accounts.models import AgeVerification, ApiKey, User
from accounts.services import api_key_create
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp


@pytest.mark.django_db
def test_export_contains_the_users_own_data_and_no_secrets(client: Client) -> None:
    user = UserFactory.create(email="export.me@example.com", country="JP", time_zone="Asia/Tokyo")
    created = api_key_create(user=user, name="laptop", scopes=["read"])
    AgeVerification.objects.create(user=user, method="stripe_identity", session_id="vs_1")
    other = UserFactory.create(email="someone.else@example.com")
    client.force_login(user)
    response = client.get("/account/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["email"] == "export.me@example.com"
    assert data["account"]["date_of_birth"] == "1990-05-17"
    assert data["account"]["country"] == "JP"
    assert data["jurisdiction"]["code"] == "JP"
    assert data["email_addresses"] == [
        {"email": "export.me@example.com", "verified": True, "primary": True}
    ]
    assert data["api_keys"][0]["prefix"] == created.api_key.prefix
    assert data["age_verifications"][0]["session_id"] == "vs_1"
    text = response.content.decode()
    assert created.raw_key not in text and created.api_key.key_hash not in text
    assert other.email not in text and str(other.pk) not in text


@pytest.mark.django_db
def test_api_export_needs_read_scope() -> None:
    user = UserFactory.create()
    read = api_key_create(user=user, name="r", scopes=["read"])
    generate = api_key_create(user=user, name="g", scopes=["generate"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {read.raw_key}")
    response = api.get("/api/v1/me/export")
    assert response.status_code == 200
    assert json.loads(response.content)["account"]["id"] == str(user.pk)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {generate.raw_key}")
    assert api.get("/api/v1/me/export").status_code == 403


@pytest.mark.django_db
def test_erasure_pseudonymises_and_tells_what_is_kept(client: Client) -> None:
    user = UserFactory.create(email="leaving@example.com", region="")
    enrol_totp(user)
    key = api_key_create(user=user, name="k", scopes=["read"])
    AgeVerification.objects.create(user=user, method="manual", outcome="verified")
    client.force_login(user)
    page = client.get("/account/delete/")
    assert b"What we keep" in page.content
    response = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200
    assert b"What we kept" in response.content
    assert b"Age-verification outcomes" in response.content
    erased = User.objects.get(pk=user.pk)
    assert erased.email.startswith("erased-") and erased.email.endswith("@invalid")
    assert erased.date_of_birth is None
    assert not erased.has_usable_password()
    assert not erased.is_active
    assert not EmailAddress.objects.filter(user=erased).exists()
    assert not Authenticator.objects.filter(user=erased).exists()
    assert ApiKey.objects.get(pk=key.api_key.pk).revoked_at is not None
    assert AgeVerification.objects.filter(user=erased).count() == 1  # kept
    # Signed out, and the old key no longer works.
    assert client.get("/account/").status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    assert api.get("/api/v1/me").status_code == 401
    entry = AuditLogEntry.objects.get(action="accounts.user.erase")
    assert "leaving@example.com" not in json.dumps(
        [entry.actor_label, entry.before, entry.after, entry.reason]
    )


@pytest.mark.django_db
def test_erasure_with_a_wrong_password_changes_nothing(client: Client) -> None:
    user = UserFactory.create(email="stay@example.com")
    client.force_login(user)
    response = client.post("/account/delete/", {"password": "wrong", "confirm": "on"})
    assert response.status_code == 200
    assert b"The password is not correct" in response.content
    user.refresh_from_db()
    assert user.email == "stay@example.com" and user.is_active and user.has_usable_password()
    assert EmailAddress.objects.filter(user=user).exists()
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_erasure_under_legal_hold_closes_the_account_but_keeps_identity(client: Client) -> None:
    from accountability.legal_holds import legal_hold_place

    user = UserFactory.create(email="held@example.com")
    senior = UserFactory.create(groups=["senior_moderators"])
    legal_hold_place(user=user, reason="CSAM case", actor=senior)
    client.force_login(user)
    response = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200
    assert b"legal obligation" in response.content
    assert b"legal hold" not in response.content.lower()  # the user is not tipped off
    held = User.objects.get(pk=user.pk)
    assert held.email == "held@example.com"
    assert held.date_of_birth is not None
    assert not held.is_active and not held.has_usable_password()
