"""What the accounts app calls up in billing (core/upcalls.py).

An Identity event can reach the Stripe inbox (billing) before the session's row is
committed; the inbox parks it on the session. When ``age_verification_start``
commits the row it calls ``identity_session_created``, which billing provides in its
``AppConfig.ready()`` to wake the events parked on that session.
"""

from __future__ import annotations

from typing import Protocol

from core.upcalls import UpCall


class SessionCreated(Protocol):
    def __call__(self, *, session_id: str) -> object: ...


identity_session_created: UpCall[SessionCreated] = UpCall(
    "accounts.identity_session_created", provided_by="billing"
)
