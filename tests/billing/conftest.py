"""Billing fixtures: users, a fake Stripe *transport* and signed event deliveries.

Every Stripe call in these tests goes through the real ``stripe`` library; only its
HTTP transport is replaced (``FakeStripe``, a ``stripe.HTTPClient`` that routes on
method and path).
"""

from __future__ import annotations

import importlib
import itertools
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import factory
import pytest
import stripe
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client

from accounts.models import User
from billing.models import Customer, Plan
from core.stripe_client import decode_form, stripe_transport_override
from devstripe.billing import sign_payload

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids)}_{time.monotonic_ns()}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"billing-user-{n}@example.com")


class FakeStripe(stripe.HTTPClient):
    """An in-memory Stripe API: the objects it holds are "Stripe's truth"."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        path = urlsplit(url).path
        params = decode_form(post_data)
        self.requests.append((method.upper(), path, params))
        parts = path.strip("/").split("/")[1:]
        body: dict[str, Any] | None = None
        match method.lower(), parts:
            case "post", ["customers"]:
                body = {"id": new_id("cus"), "object": "customer", **params}
            case "post", ["checkout", "sessions"]:
                session_id = new_id("cs")
                body = {
                    "id": session_id,
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.test/c/{session_id}",
                    **params,
                }
            case "post", ["billing_portal", "sessions"]:
                body = {
                    "id": new_id("bps"),
                    "object": "billing_portal.session",
                    "url": "https://billing.stripe.test/p/session",
                    **params,
                }
            case "post", ["refunds"]:
                body = {
                    "id": new_id("re"),
                    "object": "refund",
                    "status": "succeeded",
                    "amount": 500,
                    **params,
                }
            case "get", [_, object_id] if object_id in self.objects:
                body = self.objects[object_id]
        if body is None:
            error = {"error": {"type": "invalid_request_error", "message": "No such object"}}
            return json.dumps(error), 404, {}
        return json.dumps(body), 200, {}

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        return None


def make_user(**kwargs: Any) -> User:
    user: User = UserFactory.create(**kwargs)
    return user


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    transport = FakeStripe()
    with stripe_transport_override(transport):
        yield transport


@pytest.fixture
def user(db: None) -> User:
    return make_user()


@pytest.fixture
def customer(user: User) -> Customer:
    return Customer.objects.create(user=user, stripe_customer_id=new_id("cus"))


def ensure_billing_data() -> None:
    """Re-run the data migrations (idempotent): transactional tests flush their rows."""
    for name in ("0002_seed_plans", "0003_billing_admins_group"):
        module = importlib.import_module(f"billing.migrations.{name}")
        forwards = module.seed if hasattr(module, "seed") else module.grant
        forwards(django_apps, None)


@pytest.fixture(autouse=True)
def _billing_data(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    ensure_billing_data()


@pytest.fixture
def premium(db: None) -> Plan:
    return Plan.objects.get(code="premium")


@pytest.fixture
def pro(db: None) -> Plan:
    return Plan.objects.get(code="pro")


@pytest.fixture
def pack(db: None) -> Plan:
    return Plan.objects.get(code="credits-500")


def event(event_type: str, obj: dict[str, Any], *, created: int | None = None) -> dict:
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def subscription_obj(
    *,
    sub_id: str,
    customer: Customer,
    price: str,
    status: str = "active",
    start: int = 1_800_000_000,
    end: int = 1_802_592_000,
    cancel_at_period_end: bool = False,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer.stripe_customer_id,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": None,
        "ended_at": None,
        "metadata": {"user_id": str(customer.user_id)},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "current_period_start": start,
                    "current_period_end": end,
                }
            ],
        },
    }


def invoice_obj(
    *,
    invoice_id: str,
    customer: Customer,
    sub_id: str,
    price: str,
    billing_reason: str = "subscription_cycle",
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer.stripe_customer_id,
        "billing_reason": billing_reason,
        "status": "paid",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
        "lines": {
            "object": "list",
            "data": [{"id": f"il_{invoice_id}", "pricing": {"price_details": {"price": price}}}],
        },
    }


def signed(payload: dict[str, Any] | str, *, secret: str | None = None) -> tuple[bytes, str]:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return body.encode(), sign_payload(body, secret=secret or settings.STRIPE_WEBHOOK_SECRET)


def post_event(client: Client, payload: dict[str, Any]) -> Any:
    body, header = signed(payload)
    return client.post(
        "/billing/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
