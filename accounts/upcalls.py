"""What the accounts app calls up in higher apps (core/upcalls.py).

* An Identity event can reach the Stripe inbox (billing) before the session's row is
  committed; the inbox parks it on the session. When ``age_verification_start``
  commits the row it calls ``identity_session_created``, which billing provides in
  its ``AppConfig.ready()`` to wake the events parked on that session.
* The data export and erasure (``accounts.privacy``, GDPR Art. 15, 17, 20) include
  the generation app's data: ``generations_export`` answers the user's jobs and
  images, ``generations_erase`` erases them and answers what it kept and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from core.upcalls import UpCall

if TYPE_CHECKING:
    from accounts.models import User


class SessionCreated(Protocol):
    def __call__(self, *, session_id: str) -> object: ...


identity_session_created: UpCall[SessionCreated] = UpCall(
    "accounts.identity_session_created", provided_by="billing"
)


class ExportSection(Protocol):
    def __call__(self, user: User, /) -> Any: ...


class ErasureStep(Protocol):
    def __call__(self, user: User, under_legal_hold: bool, /) -> list[str]: ...


generations_export: UpCall[ExportSection] = UpCall(
    "accounts.generations_export", provided_by="generation"
)
generations_erase: UpCall[ErasureStep] = UpCall(
    "accounts.generations_erase", provided_by="generation"
)
