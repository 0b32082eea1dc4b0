"""The one Stripe client of the platform (billing and Identity alike).

Everything that talks to Stripe calls ``stripe_client()``: the real ``stripe`` library,
pointed at ``STRIPE_API_BASE``, with the secret key or the key it is given (the
restricted Identity key reads verified outputs). Only its HTTP transport ever changes:
the offline stand-in when ``STRIPE_OFFLINE``, or a test's fake installed with
``stripe_transport_override``.

The offline stand-ins (billing's and Identity's, behind one transport) live in the
development-only app ``devstripe`` (never installed under the production settings),
which registers itself here when it starts (``offline_stand_in_register``); without it
``STRIPE_OFFLINE`` is refused as a misconfiguration. Nothing below imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

OFFLINE_API_KEY = "sk_test_offline"  # the offline stand-ins accept any key

_transport_override: stripe.HTTPClient | None = None


@dataclass(frozen=True)
class OfflineStandIn:
    """What the offline stand-in gives: its transport, completing a Checkout Session as
    the user would (``seed_demo`` subscribes the demo users so), and erasing what it
    keeps about a user (its Identity sessions hold a date of birth, as Stripe's would)."""

    transport: Callable[[], stripe.HTTPClient]
    checkout_complete: Callable[..., dict[str, Any]]
    erase_for_user: Callable[[Any], None]


_offline: OfflineStandIn | None = None


def offline_stand_in_register(
    *,
    transport: Callable[[], stripe.HTTPClient],
    checkout_complete: Callable[..., dict[str, Any]],
    erase_for_user: Callable[[Any], None],
) -> None:
    """Called by ``devstripe`` when it starts (development and test settings)."""
    global _offline
    _offline = OfflineStandIn(
        transport=transport, checkout_complete=checkout_complete, erase_for_user=erase_for_user
    )


def offline_stand_in_erase(user: Any) -> None:
    """Erase what the stand-in keeps about ``user``; nothing where there is none
    (production)."""
    if _offline is not None:
        _offline.erase_for_user(user)


def offline_stand_in() -> OfflineStandIn:
    """The registered stand-in; without it ``STRIPE_OFFLINE`` is a misconfiguration."""
    if _offline is None:
        raise ImproperlyConfigured(
            "STRIPE_OFFLINE needs the offline stand-in: add 'devstripe' to INSTALLED_APPS "
            "(development settings) or set STRIPE_SECRET_KEY."
        )
    return _offline


def stripe_http_client() -> stripe.HTTPClient | None:
    if _transport_override is not None:
        return _transport_override
    if settings.STRIPE_OFFLINE:
        return offline_stand_in().transport()
    return None  # the library's own (requests, or urllib)


def stripe_client(*, api_key: str = "") -> stripe.StripeClient:
    """A client with ``api_key``, else ``STRIPE_SECRET_KEY``."""
    return stripe.StripeClient(
        api_key or settings.STRIPE_SECRET_KEY or OFFLINE_API_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe_http_client(),
        max_network_retries=2,
    )


@contextmanager
def stripe_transport_override(transport: stripe.HTTPClient) -> Iterator[stripe.HTTPClient]:
    """Route every Stripe call through ``transport`` (tests)."""
    global _transport_override
    previous = _transport_override
    _transport_override = transport
    try:
        yield transport
    finally:
        _transport_override = previous


_KEY = re.compile(r"\[([^\]]*)\]")


def decode_form(post_data: str | bytes | None) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    if not post_data:
        return {}
    if isinstance(post_data, bytes):
        post_data = post_data.decode()
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(post_data, keep_blank_values=True):
        head = raw_key.split("[", 1)[0]
        parts = [head, *_KEY.findall(raw_key[len(head) :])]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt_is_list = not last and parts[index + 1].isdigit()
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append({} if not nxt_is_list else [])
                if last:
                    node[position] = value
                else:
                    if not isinstance(node[position], dict | list):
                        node[position] = [] if nxt_is_list else {}
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_list else {})
    return root
