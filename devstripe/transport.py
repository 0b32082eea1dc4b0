"""The offline Stripe transport (``STRIPE_OFFLINE``): one ``stripe.HTTPClient`` for the
one client (``core.stripe_client``). Identity calls (``/v1/identity/…``) go to the
Identity stand-in, everything else to billing's. ``devstripe`` registers it with
``core.stripe_client.offline_stand_in_register`` when it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import stripe

from devstripe.billing import OfflineStripeTransport
from devstripe.identity import OfflineStripeHTTPClient

IDENTITY_PREFIX = "/v1/identity/"


class OfflineTransport(stripe.HTTPClient):
    name: ClassVar[str] = "imagegate-offline"

    def __init__(self) -> None:
        super().__init__()
        self._billing = OfflineStripeTransport()
        self._identity = OfflineStripeHTTPClient()

    def _for(self, url: str) -> stripe.HTTPClient:
        return self._identity if urlsplit(url).path.startswith(IDENTITY_PREFIX) else self._billing

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        return self._for(url).request(method, url, headers, post_data)

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("The offline stand-ins do not stream.")

    def close(self) -> None:
        return None


def offline_transport() -> stripe.HTTPClient:
    return OfflineTransport()
