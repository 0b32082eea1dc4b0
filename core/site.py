"""Links that leave the site and bring the user back (Stripe Checkout, Portal, Identity)."""

from __future__ import annotations

from django.conf import settings


def site_url(path: str) -> str:
    """The URL Stripe sends the user back to for ``path``.

    With real Stripe it is absolute, on ``IMAGEGATE_SITE_URL``. With the offline
    stand-ins (development and tests; production never runs them) it is the bare path:
    the browser resolves it against the host and port it is already on, so a site
    served anywhere but http://127.0.0.1:8000 never sends its users to someone else's
    server.
    """
    if settings.STRIPE_OFFLINE:
        return path
    return str(settings.SITE_URL).rstrip("/") + path
