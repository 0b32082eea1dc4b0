"""The offline Stripe stand-in (SPEC §10), used only when ``STRIPE_OFFLINE``, in the
development-only app ``devstripe`` (which registers it with ``core.stripe_client``).

``OfflineStripeTransport`` is a ``stripe.HTTPClient``: the real ``stripe`` library
talks to it instead of the network, and it answers the few endpoints Imagegate uses
from Stripe-shaped objects kept in the database (``OfflineStripeObject``), so
``stripe_client()`` code runs unchanged. The offline Checkout and Portal pages call
the ``offline_*`` functions below, which change those objects as Stripe would and
deliver correctly signed events through the real webhook path
(``billing.webhooks.stripe_event_receive``: signature check, store once, task).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from billing.models import Plan
from billing.webhooks import stripe_event_process, stripe_event_receive
from core.site import site_url
from core.stripe_client import decode_form
from devstripe.models import OfflineStripeObject

API_VERSION = "2026-10-28.endive"
PERIOD = dt.timedelta(days=30)
DEFAULT_AMOUNT = 1000  # minor units, for a price no plan has
CURRENCY = "eur"


def _new_id(prefix: str) -> str:
    return f"{prefix}_off_{secrets.token_hex(8)}"


def _now() -> int:
    return int(time.time())


def _site(path: str) -> str:
    return site_url(path)


def store_save(data: dict[str, Any]) -> dict[str, Any]:
    OfflineStripeObject.objects.update_or_create(
        id=data["id"], defaults={"object": data["object"], "data": data}
    )
    return data


def store_load(object_id: str) -> dict[str, Any] | None:
    row = OfflineStripeObject.objects.filter(id=object_id).first()
    return dict(row.data) if row else None


def price_amount(price_id: str) -> int:
    """What the stand-in charges for a Price, in minor units: the amount the plan's
    ``price_display`` shows (``€12 / month`` → 1200), so a new plan needs no entry here."""
    plan = Plan.objects.filter(stripe_price_id=price_id).first()
    shown = re.search(r"\d+(?:[.,]\d{1,2})?", plan.price_display) if plan else None
    if shown is None:
        return DEFAULT_AMOUNT
    return round(float(shown.group().replace(",", ".")) * 100)


# --- The transport -------------------------------------------------------------------


class OfflineStripeTransport(stripe.HTTPClient):
    """Answers Stripe API calls from the offline store; unknown routes answer 404."""

    name = "imagegate-offline"

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        path = urlsplit(url).path.rstrip("/")
        params = decode_form(post_data)
        parts = path.split("/")[2:]  # after "/v1"
        try:
            body = self._route(method.lower(), parts, params)
        except LookupError as exc:
            error = {"error": {"type": "invalid_request_error", "message": str(exc)}}
            return json.dumps(error), 404, {}
        return json.dumps(body), 200, {"request-id": _new_id("req")}

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def _get(self, object_id: str) -> dict[str, Any]:
        data = store_load(object_id)
        if data is None:
            raise LookupError(f"No such object: '{object_id}'")
        return data

    def _route(self, method: str, parts: list[str], params: dict[str, Any]) -> dict[str, Any]:
        match method, parts:
            case "post", ["customers"]:
                return store_save(
                    {
                        "id": _new_id("cus"),
                        "object": "customer",
                        "email": params.get("email"),
                        "metadata": params.get("metadata", {}),
                        "created": _now(),
                    }
                )
            case "post", ["checkout", "sessions"]:
                return self._checkout_session(params)
            case "post", ["billing_portal", "sessions"]:
                session_id = _new_id("bps")
                return store_save(
                    {
                        "id": session_id,
                        "object": "billing_portal.session",
                        "customer": params["customer"],
                        "return_url": params.get("return_url"),
                        "url": _site(reverse("devstripe:offline-portal"))
                        + f"?session={session_id}",
                        "created": _now(),
                    }
                )
            case "post", ["refunds"]:
                return offline_refund_create(params)
            case "get", [("customers" | "subscriptions" | "charges" | "invoices"), object_id]:
                return self._get(object_id)
            case "get", ["checkout", "sessions", object_id]:
                return self._get(object_id)
        raise LookupError(f"Unrecognized request URL ({method.upper()} /v1/{'/'.join(parts)})")

    def _checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _new_id("cs")
        line_items = params.get("line_items") or []
        amount = sum(
            price_amount(str(item.get("price"))) * int(item.get("quantity") or 1)
            for item in line_items
        )
        mode = params.get("mode", "payment")
        return store_save(
            {
                "id": session_id,
                "object": "checkout.session",
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "amount_total": amount,
                "currency": CURRENCY,
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "subscription": None,
                "payment_intent": None,
                "url": _site(reverse("devstripe:offline-checkout", args=[session_id])),
                "created": _now(),
                # Kept for the stand-in; Stripe serves these under /line_items.
                "offline_line_items": line_items,
                "offline_subscription_metadata": (params.get("subscription_data") or {}).get(
                    "metadata", {}
                ),
            }
        )


# --- Events --------------------------------------------------------------------------


def sign_payload(payload: str, *, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header: ``t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<payload>")``."""
    timestamp = timestamp or _now()
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_build(event_type: str, obj: dict[str, Any], *, created: int | None = None) -> dict:
    return {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created or _now(),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def offline_deliver(events: list[dict[str, Any]], *, process_now: bool = False) -> None:
    """Sign each event and hand it to the webhook's own receive path.

    ``process_now`` also runs the handler in this process (seeding); otherwise the
    ``billing.process_stripe_event`` task does, as in production.
    """
    for event in events:
        payload = json.dumps(event)
        header = sign_payload(payload, secret=settings.STRIPE_WEBHOOK_SECRET)
        stored, _ = stripe_event_receive(payload=payload.encode(), signature=header)
        if process_now:
            stripe_event_process(event_pk=stored.pk)


def _deliver_on_commit(events: list[dict[str, Any]]) -> None:
    transaction.on_commit(lambda: offline_deliver(events))


def _invoice(
    *, subscription: dict[str, Any], billing_reason: str, paid: bool, created: int
) -> dict[str, Any]:
    item = subscription["items"]["data"][0]
    price_id = item["price"]["id"]
    amount = price_amount(price_id)
    return store_save(
        {
            "id": _new_id("in"),
            "object": "invoice",
            "customer": subscription["customer"],
            "status": "paid" if paid else "open",
            "billing_reason": billing_reason,
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "currency": CURRENCY,
            "created": created,
            "attempt_count": 1,
            "metadata": {},
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": subscription["id"],
                    "metadata": subscription.get("metadata", {}),
                },
            },
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": _new_id("il"),
                        "object": "line_item",
                        "amount": amount,
                        "pricing": {
                            "type": "price_details",
                            "price_details": {"price": price_id, "product": "prod_offline"},
                        },
                        "period": {
                            "start": item["current_period_start"],
                            "end": item["current_period_end"],
                        },
                    }
                ],
            },
        }
    )


def _charge(
    *, customer: str, amount: int, metadata: dict[str, Any], created: int
) -> dict[str, Any]:
    payment_intent = _new_id("pi")
    return store_save(
        {
            "id": _new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "refunded": False,
            "currency": CURRENCY,
            "customer": customer,
            "payment_intent": payment_intent,
            "metadata": metadata,
            "paid": True,
            "status": "succeeded",
            "created": created,
        }
    )


@transaction.atomic
def offline_checkout_complete(*, session_id: str, process_now: bool = False) -> dict[str, Any]:
    """The user paid on the stand-in Checkout page: what Stripe would then do."""
    session = store_load(session_id)
    if session is None or session["object"] != "checkout.session":
        raise LookupError(session_id)
    if session["status"] != "open":
        return session
    now = _now()
    events: list[dict[str, Any]] = []
    if session["mode"] == "subscription":
        price_id = session["offline_line_items"][0]["price"]
        subscription = store_save(
            {
                "id": _new_id("sub"),
                "object": "subscription",
                "customer": session["customer"],
                "status": "active",
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "created": now,
                "metadata": session.get("offline_subscription_metadata") or {},
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": _new_id("si"),
                            "object": "subscription_item",
                            "price": {"id": price_id, "object": "price"},
                            "quantity": 1,
                            "current_period_start": now,
                            "current_period_end": now + int(PERIOD.total_seconds()),
                        }
                    ],
                },
            }
        )
        invoice = _invoice(
            subscription=subscription, billing_reason="subscription_create", paid=True, created=now
        )
        subscription["latest_invoice"] = invoice["id"]
        store_save(subscription)
        session["subscription"] = subscription["id"]
        events += [
            event_build("customer.subscription.created", subscription, created=now),
            event_build("invoice.paid", invoice, created=now),
        ]
    else:
        charge = _charge(
            customer=session["customer"],
            amount=int(session["amount_total"]),
            metadata=session.get("metadata") or {},
            created=now,
        )
        session["payment_intent"] = charge["payment_intent"]
    session["status"] = "complete"
    session["payment_status"] = "paid"
    store_save(session)
    events.append(event_build("checkout.session.completed", session, created=now))
    if process_now:
        offline_deliver(events, process_now=True)
    else:
        _deliver_on_commit(events)
    return session


def offline_checkout_expire(*, session_id: str) -> None:
    session = store_load(session_id)
    if session and session["status"] == "open":
        session["status"] = "expired"
        store_save(session)


def offline_live_subscription(*, stripe_customer_id: str) -> dict[str, Any] | None:
    rows = OfflineStripeObject.objects.filter(object="subscription").order_by("-created_at")
    for row in rows:
        data = dict(row.data)
        if data.get("customer") == stripe_customer_id and data["status"] != "canceled":
            return data
    return None


PORTAL_ACTIONS = ("cancel", "resume", "cancel_now", "switch", "renew", "renew_fails")


@transaction.atomic
def offline_portal_action(
    *, stripe_customer_id: str, action: str, price_id: str = ""
) -> dict[str, Any]:
    """What the Customer Portal (and Stripe's renewal clock) would do to a subscription."""
    subscription = offline_live_subscription(stripe_customer_id=stripe_customer_id)
    if subscription is None or action not in PORTAL_ACTIONS:
        raise LookupError("no live subscription")
    now = _now()
    item = subscription["items"]["data"][0]
    events: list[dict[str, Any]] = []
    if action == "cancel":
        subscription["cancel_at_period_end"] = True
        subscription["canceled_at"] = now
    elif action == "resume":
        subscription["cancel_at_period_end"] = False
        subscription["canceled_at"] = None
    elif action == "switch":
        item["price"] = {"id": price_id, "object": "price"}
    elif action in ("renew", "renew_fails"):
        if subscription["cancel_at_period_end"]:
            action = "cancel_now"  # the period ends and the subscription with it
        else:
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_end"] + int(PERIOD.total_seconds())
            paid = action == "renew"
            subscription["status"] = "active" if paid else "past_due"
            invoice = _invoice(
                subscription=subscription,
                billing_reason="subscription_cycle",
                paid=paid,
                created=now,
            )
            subscription["latest_invoice"] = invoice["id"]
            events.append(
                event_build(
                    "invoice.paid" if paid else "invoice.payment_failed", invoice, created=now
                )
            )
    if action == "cancel_now":
        subscription["status"] = "canceled"
        subscription["canceled_at"] = subscription.get("canceled_at") or now
        subscription["ended_at"] = now
        store_save(subscription)
        events.append(event_build("customer.subscription.deleted", subscription, created=now))
    else:
        store_save(subscription)
        events.insert(0, event_build("customer.subscription.updated", subscription, created=now))
    _deliver_on_commit(events)
    return subscription


def offline_refund_create(params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/refunds: refund a charge found by payment intent or id; charge.refunded."""
    charge = None
    if params.get("charge"):
        charge = store_load(str(params["charge"]))
    elif params.get("payment_intent"):
        row = (
            OfflineStripeObject.objects.filter(
                object="charge", data__payment_intent=params["payment_intent"]
            )
            .order_by("-created_at")
            .first()
        )
        charge = dict(row.data) if row else None
    if charge is None:
        raise LookupError("No such charge or payment intent")
    remaining = int(charge["amount"]) - int(charge["amount_refunded"])
    amount = min(int(params.get("amount") or remaining), remaining)
    charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
    charge["refunded"] = charge["amount_refunded"] >= int(charge["amount"])
    store_save(charge)
    refund = store_save(
        {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "currency": charge["currency"],
            "reason": params.get("reason"),
            "metadata": params.get("metadata", {}),
            "status": "succeeded",
            "created": _now(),
        }
    )
    _deliver_on_commit([event_build("charge.refunded", charge)])
    return refund
