"""Legal holds: a user's data is kept from retention and erasure while one is active."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import LegalHold
from core.errors import ApplicationError, ErrorCode


def is_under_legal_hold(*, user: Any) -> bool:
    """True while any hold on the user is not released."""
    if user is None or getattr(user, "pk", None) is None:
        return False
    return LegalHold.objects.filter(user=user, released_at__isnull=True).exists()


def legal_hold_place(*, user: Any, reason: str, actor: Any) -> LegalHold:
    """Place a hold (audited). A reason is required."""
    if not reason.strip():
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Required."]})
    with transaction.atomic():
        hold = LegalHold.objects.create(
            user=user,
            reason=reason,
            placed_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="legal_hold.place",
            target=hold,
            after={"user": str(user.pk)},
            reason=reason,
        )
    return hold


def legal_hold_release(*, hold: LegalHold, reason: str, actor: Any) -> LegalHold:
    """Release a hold (audited); releasing twice is refused."""
    if not reason.strip():
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Required."]})
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise ApplicationError(ErrorCode.CONFLICT, "This hold is already released.")
        locked.released_at = timezone.now()
        locked.released_by = actor
        locked.release_reason = reason
        locked.save(update_fields=["released_at", "released_by", "release_reason"])
        audit_record(
            actor=actor,
            action="legal_hold.release",
            target=locked,
            before={"released_at": None},
            after={"released_at": locked.released_at.isoformat()},
            reason=reason,
        )
    return locked
