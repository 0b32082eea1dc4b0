from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccountState
from tests.accounts.factories import AdultFactory, UserFactory


@pytest.mark.django_db
def test_me_has_exactly_the_spec_fields() -> None:
    pytest.importorskip("billing.entitlements")
    user = AdultFactory.create(country="US", region="US-AL")
    api = APIClient()
    api.force_login(user)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "email_verified",
        "jurisdiction",
        "account_state",
        "age_verification",
        "plan",
        "credits",
        "strikes",
    }
    assert body["id"] == str(user.pk)
    assert body["email"] == user.email
    assert body["email_verified"] is True
    assert body["jurisdiction"]["code"] == "US-AL"
    assert body["jurisdiction"]["min_age"] == 19
    assert body["account_state"] == "active"
    assert body["age_verification"]["status"] == "verified"
    assert body["age_verification"]["verified_at"] is not None
    # Billing's contract: no plan yet ⇒ null; credits always {balance, reserved}.
    assert body["plan"] is None or set(body["plan"]) == {"code", "status", "current_period_end"}
    assert set(body["credits"]) == {"balance", "reserved"}
    assert all(isinstance(value, int) for value in body["credits"].values())
    assert body["strikes"] == 0


@pytest.mark.django_db
def test_me_shows_an_ended_cooldown_as_active() -> None:
    pytest.importorskip("billing.entitlements")
    user = UserFactory.create(
        account_state=AccountState.COOLDOWN,
        cooldown_until=timezone.now() - dt.timedelta(minutes=1),
        email_verified=False,
    )
    api = APIClient()
    api.force_login(user)
    body = api.get("/api/v1/me").json()
    assert body["account_state"] == "active"
    assert body["email_verified"] is False
    assert body["age_verification"] == {"status": "unverified", "verified_at": None}


def test_me_needs_authentication(db: None) -> None:
    response = APIClient().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_account_page_shows_the_overview(client) -> None:
    user = UserFactory.create()
    client.force_login(user)
    content = client.get("/account/").content.decode()
    for text in (
        "Verify age",
        "Jurisdiction",
        "Account state",
        "/pricing/",
        "API keys",
        "two-factor",
        "Download your data",
        "Delete your account",
    ):
        assert text in content
