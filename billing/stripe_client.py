"""The one place a Stripe client is made.

Everything that talks to Stripe calls ``stripe_client()``: the real ``stripe`` library,
pointed at ``STRIPE_API_BASE``. Only its HTTP transport ever changes: the offline
stand-in (``billing.offline_stripe``) when ``STRIPE_OFFLINE``, or a test's fake
installed with ``stripe_transport_override``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import stripe
from django.conf import settings

_transport_override: stripe.HTTPClient | None = None


def stripe_http_client() -> stripe.HTTPClient | None:
    if _transport_override is not None:
        return _transport_override
    if settings.STRIPE_OFFLINE:
        from billing.offline_stripe import OfflineStripeTransport

        return OfflineStripeTransport()
    return None  # the library's own (requests, or urllib)


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY or "sk_test_offline",
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
