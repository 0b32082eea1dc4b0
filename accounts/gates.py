"""The accounts gates of SPEC §1 (composed in order by ``generation_submit``).

Each gate only reads and raises ``ApplicationError`` with the spec's code; none writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from accounts.age import age_in_zone
from accounts.models import AccountState, Jurisdiction, User
from accounts.selectors import user_email_verified, user_jurisdiction
from core.errors import ApplicationError, ErrorCode


def gate_email_verified(*, user: User, is_verified: bool | None = None) -> None:
    """403 ``email_unverified`` until the account's email address is confirmed.

    ``is_verified``: the fact as already read in this request (else it is read here).
    """
    if is_verified is None:
        is_verified = user_email_verified(user=user)
    if not is_verified:
        raise ApplicationError(ErrorCode.EMAIL_UNVERIFIED)


def gate_age_verified(*, user: User, jurisdiction: Jurisdiction | None = None) -> None:
    """403 ``age_verification_required`` unless age is verified and meets the jurisdiction.

    A verification is made against the minimum age of the jurisdiction at the time; the
    declared date of birth (checked against the document, mismatches flagged) is
    re-checked against today's jurisdiction, e.g. after a move to a stricter region.
    ``jurisdiction``: the user's, as already read in this request (else read here).
    """
    jurisdiction = jurisdiction or user_jurisdiction(user=user)
    details = {"min_age": jurisdiction.min_age, "status": user.age_verification_status}
    if not user.is_age_verified:
        raise ApplicationError(ErrorCode.AGE_VERIFICATION_REQUIRED, details=details)
    if user.date_of_birth is not None:
        age = age_in_zone(date_of_birth=user.date_of_birth, time_zone=user.time_zone)
        if age < jurisdiction.min_age:
            raise ApplicationError(
                ErrorCode.AGE_VERIFICATION_REQUIRED,
                f"You must be at least {jurisdiction.min_age} in your jurisdiction.",
                details=details,
            )


def gate_account_state(*, user: User) -> None:
    """403 ``account_suspended`` (suspended or banned) or ``cooldown`` (until a time)."""
    state = user.account_state
    if state in (AccountState.SUSPENDED, AccountState.BANNED):
        raise ApplicationError(
            ErrorCode.ACCOUNT_SUSPENDED,
            "This account is banned." if state == AccountState.BANNED else None,
            details={"state": state},
        )
    if state == AccountState.COOLDOWN:
        until = user.cooldown_until
        if until is None or until > timezone.now():
            # A cool-down without an end is treated as running: never fail open.
            details: dict[str, object] = {"until": until.isoformat() if until else None}
            headers = {}
            if until is not None:
                seconds = max(1, int((until - timezone.now()).total_seconds()))
                headers["Retry-After"] = str(seconds)
            raise ApplicationError(ErrorCode.COOLDOWN, details=details, headers=headers)


def gate_region_allows(
    *, user: User, features: Iterable[str], jurisdiction: Jurisdiction | None = None
) -> None:
    """403 ``region_restricted`` when a requested feature is disabled in the jurisdiction."""
    requested = set(features)
    if not requested:
        return
    jurisdiction = jurisdiction or user_jurisdiction(user=user)
    blocked = sorted(requested & set(jurisdiction.disabled_features or []))
    if blocked:
        raise ApplicationError(
            ErrorCode.REGION_RESTRICTED,
            details={"features": blocked, "jurisdiction": jurisdiction.code},
        )
