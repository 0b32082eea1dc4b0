from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from core.stripe_client import stripe_transport_override
from tests.accounts.factories import AdultFactory, UserFactory

STRIPE_TEST_BASE = "https://stripe.test"
SECRET_KEY = "sk_test_accounts"
IDENTITY_KEY = "rk_test_identity"
WEBHOOK_SECRET = "whsec_test_identity"


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def adult(db: None) -> User:
    return AdultFactory.create()


@pytest.fixture
def logged_in(client: Client) -> Callable[[User], Client]:
    def _login(user: User) -> Client:
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


class FakeStripe(stripe.HTTPClient):
    """Stripe's servers for the Identity calls we make: routes on method and path.

    Sessions live in ``self.sessions``; ``self.calls`` records (method, path, query,
    form, authorization) for assertions.
    """

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.dobs: dict[str, dict[str, int]] = {}
        self.countries: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self._counter = 0

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        form = dict(
            parse_qsl(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        )
        query = parse_qsl(parts.query)
        self.calls.append(
            {
                "method": method.upper(),
                "url": url,
                "path": parts.path,
                "query": query,
                "form": form,
                "authorization": (headers or {}).get("Authorization", ""),
            }
        )
        if self.fail_with:
            body = {"error": {"type": "api_error", "message": "down"}}
            return json.dumps(body), self.fail_with, {}
        route = (method.upper(), parts.path)
        if route == ("POST", "/v1/identity/verification_sessions"):
            self._counter += 1
            session_id = f"vs_test_{self._counter}"
            self.sessions[session_id] = {
                "id": session_id,
                "object": "identity.verification_session",
                "status": "requires_input",
                "type": "document",
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {"user_id": form.get("metadata[user_id]")},
                "url": f"https://verify.stripe.test/start/{session_id}",
                "last_error": None,
                "verified_outputs": None,
            }
            return json.dumps(self.sessions[session_id]), 200, {}
        if method.upper() == "GET" and parts.path.startswith("/v1/identity/verification_sessions/"):
            session_id = parts.path.rsplit("/", 1)[1]
            if session_id not in self.sessions:
                return json.dumps({"error": {"type": "invalid_request_error"}}), 404, {}
            session = dict(self.sessions[session_id])
            if session["status"] == "verified":
                expanded = ("expand[0]", "verified_outputs.dob") in query
                session["verified_outputs"] = {
                    "dob": self.dobs.get(session_id) if expanded else None,
                    "first_name": "Test",
                    "last_name": "Person",
                    "address": (
                        {"country": self.countries[session_id]}
                        if session_id in self.countries
                        else None
                    ),
                }
            return json.dumps(session), 200, {}
        return json.dumps({"error": {"type": "invalid_request_error"}}), 404, {}

    def close(self) -> None:
        return None

    def settle(
        self,
        session_id: str,
        status: str,
        dob: tuple[int, int, int] | None = None,
        country: str = "",
    ) -> None:
        self.sessions[session_id]["status"] = status
        if country:
            self.countries[session_id] = country
        if dob:
            year, month, day = dob
            self.dobs[session_id] = {"year": year, "month": month, "day": day}


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    """Online mode, with only the stripe library's HTTP transport replaced."""
    settings.STRIPE_OFFLINE = False
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_IDENTITY_KEY = IDENTITY_KEY
    settings.STRIPE_API_BASE = STRIPE_TEST_BASE
    settings.STRIPE_IDENTITY_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripe()
    with stripe_transport_override(fake):
        yield fake


def signed_event(
    *, event_id: str, event_type: str, session: dict[str, Any], secret: str = WEBHOOK_SECRET
) -> tuple[bytes, str]:
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "livemode": False,
            "data": {"object": session},
        }
    )
    return payload.encode(), stripe.WebhookSignature.generate_signature_header(payload, secret)
