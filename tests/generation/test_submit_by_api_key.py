"""A submit by API key reads its gate facts in the key's own lookup (one statement fewer,
``GenerationListCreateApi.api_key_lookup_columns``): the facts are the ones
``submit_facts`` reads apart, and each gate decides on them as it does for a session."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_authenticate, api_key_create
from billing.models import BillingReviewFlag, ReviewFlagKind
from generation import services
from generation.models import GenerationJob
from generation.selectors import submit_facts, submit_facts_from_row
from moderation.models import PromptLog, Strike
from moderation.selectors import strike_window_start
from tests.generation.conftest import balance, make_adult, subscribe

pytestmark = pytest.mark.django_db

GOOD = {"prompt": "a watercolour lighthouse at dawn", "width": 256, "height": 256, "steps": 4}


def unverified(user: User) -> None:
    EmailAddress.objects.filter(user=user).update(verified=False)


def flagged(user: User) -> None:
    BillingReviewFlag.objects.create(
        user=user, kind=ReviewFlagKind.DISPUTE, stripe_object_id=f"dp_{uuid.uuid4().hex[:10]}"
    )


def struck(user: User) -> None:
    Strike.objects.create(user=user, category="violence", severity=2)
    Strike.objects.create(  # outside the window: not counted
        user=user, category="hate", severity=5, created_at=timezone.now() - dt.timedelta(days=999)
    )


def unsubscribed(user: User) -> None:
    user.subscriptions.all().delete()


STATES: dict[str, Callable[[User], Any]] = {
    "subscriber": lambda user: None,
    "unverified email": unverified,
    "open billing flag": flagged,
    "strikes": struck,
    "no subscription": unsubscribed,
}


def key_for(user: User) -> str:
    return api_key_create(user=user, name="t", scopes=["read", "generate"]).raw_key


def client_for(user: User) -> APIClient:
    """A client that authenticates with a new API key of ``user`` (not a session)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key_for(user)}")
    return client


@pytest.mark.parametrize("state", sorted(STATES))
def test_the_key_lookup_reads_the_facts_submit_facts_reads_apart(state: str) -> None:
    user = make_adult()
    subscribe(user, credits=7)
    STATES[state](user)
    raw = key_for(user)
    api_key = api_key_authenticate(raw_key=raw, columns=services.submit_lookup_columns())
    assert api_key is not None and api_key.user == user
    assert api_key.lookup_columns is not None
    looked_up = submit_facts_from_row(api_key.lookup_columns)
    assert looked_up == submit_facts(user=user, strikes_since=strike_window_start())
    assert looked_up.credit_balance == 7
    assert looked_up.strike_weight == (2 if state == "strikes" else 0)
    assert looked_up.email_verified is (state != "unverified email")
    assert looked_up.has_open_billing_flag is (state == "open billing flag")
    # Without columns the lookup reads the key and its user only.
    assert api_key_authenticate(raw_key=raw).lookup_columns is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "status", "code"),
    [
        ("unverified email", 403, "email_unverified"),
        ("no subscription", 403, "subscription_required"),
        ("open billing flag", 403, "subscription_required"),
    ],
)
def test_a_gate_refuses_a_submit_by_api_key_as_it_refuses_a_session(
    state: str, status: int, code: str
) -> None:
    user = make_adult()
    subscribe(user, credits=5)
    STATES[state](user)
    response = client_for(user).post("/api/v1/generations", GOOD, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert GenerationJob.objects.filter(user=user).count() == 0
    assert PromptLog.objects.filter(user_id=user.pk).count() == 0
    assert balance(user) == (5, 0)


def test_a_submit_by_api_key_without_credits_is_402_and_writes_nothing() -> None:
    user = make_adult()
    subscribe(user, credits=0)
    response = client_for(user).post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "quota_exhausted",
        "message": response.json()["error"]["message"],
        "details": {"required": 1, "available": 0},
    }
    assert GenerationJob.objects.filter(user=user).count() == 0


def test_a_submit_by_api_key_is_accepted_and_charged_once() -> None:
    user = make_adult()
    subscribe(user, credits=3)
    response = client_for(user).post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 202, response.json()
    assert GenerationJob.objects.get(user=user).status == "queued"
    assert balance(user) == (2, 1)
