"""The offline stand-in for Stripe Identity (SPEC §10), behind the real ``stripe`` library.

``OfflineStripeHTTPClient`` is a ``stripe.HTTPClient`` that answers the Identity API
calls this site makes from sessions kept in the database (``OfflineIdentitySession``),
so that ``accounts.identity`` runs unchanged (``devstripe`` registers it there).
``offline_identity_complete`` is what the stand-in page calls: it settles the session
and delivers a correctly signed event to the same webhook handler that Stripe's
deliveries reach.

Used only when ``settings.STRIPE_OFFLINE`` (no Stripe secret key), in the development-only
app ``devstripe``: never installed under the production settings.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.db import transaction
from django.urls import reverse

from accounts.identity import _webhook_secret, identity_webhook_receive
from core.site import site_url
from devstripe.models import OfflineIdentitySession

SESSIONS_PATH = "/v1/identity/verification_sessions"


class OfflineOutcome:
    VERIFIED = "verified"
    FAILED = "failed"
    CANCELED = "canceled"
    ALL = (VERIFIED, FAILED, CANCELED)


def _session_json(session: OfflineIdentitySession, *, expand: list[str]) -> dict[str, Any]:
    verified_outputs: dict[str, Any] | None = None
    if session.status == "verified":
        verified_outputs = {"first_name": None, "last_name": None, "address": None}
        # Like Stripe: the date of birth is only returned when expanded.
        if "verified_outputs.dob" in expand and session.verified_dob is not None:
            dob = session.verified_dob
            verified_outputs["dob"] = {"day": dob.day, "month": dob.month, "year": dob.year}
        else:
            verified_outputs["dob"] = None
    return {
        "id": session.id,
        "object": "identity.verification_session",
        "client_reference_id": session.client_reference_id or None,
        "created": int(session.created_at.timestamp()),
        "last_error": {"code": session.last_error_code, "reason": "Offline stand-in: failed."}
        if session.last_error_code
        else None,
        "livemode": False,
        "metadata": session.metadata,
        "options": {"document": {}},
        "status": session.status,
        "type": "document",
        "url": (
            site_url(reverse("devstripe:identity-offline", kwargs={"session_id": session.id}))
            if session.status == "requires_input"
            else None
        ),
        "verified_outputs": verified_outputs,
    }


def _form_params(post_data: Any) -> dict[str, str]:
    if not post_data:
        return {}
    text = post_data.decode() if isinstance(post_data, bytes) else str(post_data)
    return dict(parse_qsl(text, keep_blank_values=True))


def _error(status: int, message: str) -> tuple[str, int, Mapping[str, str]]:
    body = {"error": {"type": "invalid_request_error", "message": message}}
    return json.dumps(body), status, {"Request-Id": "req_offline"}


class OfflineStripeHTTPClient(stripe.HTTPClient):
    """Answers ``/v1/identity/verification_sessions`` from the local store."""

    name: ClassVar[str] = "imagegate-offline"

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
        path = parts.path.rstrip("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        expand = [value for key, value in query if key.startswith("expand")]
        method = method.lower()
        if method == "post" and path == SESSIONS_PATH:
            return self._create(_form_params(post_data))
        if path.startswith(SESSIONS_PATH + "/"):
            rest = path[len(SESSIONS_PATH) + 1 :].split("/")
            session = OfflineIdentitySession.objects.filter(pk=rest[0]).first()
            if session is None:
                return _error(404, f"No such verification session: '{rest[0]}'")
            if method == "get" and len(rest) == 1:
                return self._ok(_session_json(session, expand=expand))
            if method == "post" and rest[1:] == ["cancel"]:
                session.status = "canceled"
                session.save(update_fields=["status"])
                return self._ok(_session_json(session, expand=[]))
        return _error(404, f"Unrecognized request URL ({method.upper()}: {path}).")

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        raise NotImplementedError("The offline stand-in does not stream.")

    def close(self) -> None:
        return None

    @staticmethod
    def _ok(body: dict[str, Any]) -> tuple[str, int, Mapping[str, str]]:
        return json.dumps(body), 200, {"Request-Id": "req_offline"}

    def _create(self, params: dict[str, str]) -> tuple[str, int, Mapping[str, str]]:
        if params.get("type") != "document":
            return _error(400, "Only document sessions are supported offline.")
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in params.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        session = OfflineIdentitySession.objects.create(
            id="vs_offline_" + secrets.token_hex(12),
            return_url=params.get("return_url", ""),
            metadata=metadata,
            client_reference_id=params.get("client_reference_id", ""),
        )
        return self._ok(_session_json(session, expand=[]))


def offline_identity_complete(
    *, session: OfflineIdentitySession, outcome: str, date_of_birth: dt.date | None = None
) -> str:
    """Settle an offline session as the user chose and deliver the signed event.

    The event goes through ``identity_webhook_receive``, the handler behind the HTTP
    webhook, which checks the signature exactly as for Stripe's own deliveries.
    """
    if outcome not in OfflineOutcome.ALL:
        raise ValueError(outcome)
    if outcome == OfflineOutcome.VERIFIED and date_of_birth is None:
        raise ValueError("A verified outcome needs a date of birth.")
    with transaction.atomic():
        locked = OfflineIdentitySession.objects.select_for_update().get(pk=session.pk)
        if locked.status != "requires_input" or locked.last_error_code:
            raise ValueError("This session is already settled.")
        if outcome == OfflineOutcome.VERIFIED:
            locked.status, locked.verified_dob = "verified", date_of_birth
        elif outcome == OfflineOutcome.FAILED:
            locked.last_error_code = "document_unverified_other"
        else:
            locked.status = "canceled"
        locked.save(update_fields=["status", "verified_dob", "last_error_code"])
    event_type = {
        OfflineOutcome.VERIFIED: "identity.verification_session.verified",
        OfflineOutcome.FAILED: "identity.verification_session.requires_input",
        OfflineOutcome.CANCELED: "identity.verification_session.canceled",
    }[outcome]
    event = {
        "id": "evt_offline_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": _session_json(locked, expand=[])},
    }
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, _webhook_secret())
    return identity_webhook_receive(payload=payload.encode(), signature=signature)


def offline_identity_erase_for_user(user: Any) -> None:
    """Erasure (``accounts.privacy.user_erase``): the stand-in's sessions hold a date of
    birth, as Stripe's would; they go whatever the legal hold, like the other identity
    data."""
    OfflineIdentitySession.objects.filter(client_reference_id=str(user.pk)).delete()
