"""Users in every role and helpers shared by the security tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from tests.accountability.fixtures import (  # noqa: F401  (fixtures)
    billing_admin,
    client_for,
    make_user,
    moderator,
    senior,
    superuser,
)
from tests.generation.conftest import make_adult, subscribe


def stripe_signed(body: bytes | str, secret: str | None = None) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{text}", secret or settings.STRIPE_WEBHOOK_SECRET
    )
    return f"t={timestamp},v1={signature}"


@pytest.fixture
def subscriber(db: None) -> User:
    user = make_adult("subscriber-sec@example.com")
    subscribe(user)
    return user


@pytest.fixture
def other_subscriber(db: None) -> User:
    user = make_adult("other-sec@example.com")
    subscribe(user)
    return user


@pytest.fixture
def member(db: None) -> User:
    return make_user("member-sec@example.com")


@pytest.fixture
def key_for() -> Callable[..., APIClient]:
    """An API client authenticated with a fresh key of the given scopes."""

    def build(user: User, scopes: list[str], *, revoked: bool = False) -> APIClient:
        created = api_key_create(user=user, name="test key", scopes=scopes)
        if revoked:
            from accounts.services import api_key_revoke

            api_key_revoke(api_key=created.api_key)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
        return client

    return build


@pytest.fixture
def session_for() -> Callable[[User | None], Client]:
    def build(user: User | None) -> Client:
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        return client

    return build


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


PROJECT_APPS = ("accounts", "billing", "generation", "moderation", "accountability", "core")


def row_counts() -> dict[str, int]:
    """Rows in every model of the project's apps: a refused request changes none."""
    from django.apps import apps

    counts = {}
    for app_label in PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts
