"""The one Stripe client of the platform (billing and Identity alike).

Everything that talks to Stripe calls ``stripe_client()``: the real ``stripe`` library,
pointed at ``STRIPE_API_BASE``, with the secret key or the key it is given (the
restricted Identity key reads verified outputs). Only its HTTP transport ever changes:

* a test's fake, installed with ``stripe_transport_override``;
* with ``STRIPE_OFFLINE``, the offline stand-in, which sits above this layer and
  provides itself through the up-call ``offline_stripe_transport`` (core/upcalls.py;
  billing provides it, routing Identity calls to the accounts app's stand-in);
* otherwise the library's own (requests, or urllib).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import parse_qsl

import stripe
from django.conf import settings

from core.upcalls import UpCall

OFFLINE_API_KEY = "sk_test_offline"  # the offline stand-ins accept any key


class OfflineTransport(Protocol):
    def __call__(self) -> stripe.HTTPClient: ...


offline_stripe_transport: UpCall[OfflineTransport] = UpCall(
    "core.offline_stripe_transport", provided_by="billing"
)

_transport_override: stripe.HTTPClient | None = None


def stripe_http_client() -> stripe.HTTPClient | None:
    if _transport_override is not None:
        return _transport_override
    if settings.STRIPE_OFFLINE:
        return offline_stripe_transport.handler()
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
