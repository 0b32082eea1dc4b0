"""Writes of the accounts app: account states, API keys, manual age verification.

Age verification through Stripe Identity lives in ``accounts.identity``; data export
and erasure in ``accounts.privacy``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accountability.audit import audit_record
from accounts.models import (
    AccountState,
    AgeVerification,
    AgeVerificationFlag,
    AgeVerificationMethod,
    AgeVerificationOutcome,
    AgeVerificationStatus,
    ApiKey,
    ApiScope,
    User,
)
from accounts.roles import user_is_senior_moderator
from accounts.selectors import user_jurisdiction
from core.errors import ApplicationError, ErrorCode
from core.sql import model_columns, model_from_row

API_KEY_PREFIX = "ig_"
API_KEY_MAX_ACTIVE = 20
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


# --- account states ------------------------------------------------------------------


def _state_snapshot(user: User) -> dict[str, Any]:
    return {
        "account_state": user.account_state,
        "account_state_reason": user.account_state_reason,
        "cooldown_until": user.cooldown_until.isoformat() if user.cooldown_until else None,
    }


def account_set_state(
    *,
    user: User,
    state: AccountState | str,
    reason: str,
    actor: Any,
    until: dt.datetime | None = None,
) -> User:
    """Move an account to active, cool-down (until a future time), suspended or banned.

    Every change needs a reason and is audited. A cool-down needs ``until`` in the
    future; the other states clear it. ``actor`` is the deciding user, or None/a label
    for automated decisions (strikes).
    """
    state = AccountState(state)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Give a reason."]})
    if state == AccountState.COOLDOWN:
        if until is None or timezone.is_naive(until) or until <= timezone.now():
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                details={"until": ["A cool-down needs an aware end time in the future."]},
            )
    else:
        until = None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = _state_snapshot(locked)
        locked.account_state = state
        locked.account_state_reason = reason
        locked.cooldown_until = until
        locked.save(update_fields=["account_state", "account_state_reason", "cooldown_until"])
        audit_record(
            actor=actor,
            action="accounts.account_state.set",
            target=locked,
            before=before,
            after=_state_snapshot(locked),
            reason=reason,
        )
    user.account_state = locked.account_state
    user.account_state_reason = locked.account_state_reason
    user.cooldown_until = locked.cooldown_until
    return user


# --- API keys ------------------------------------------------------------------------


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def _clean_scopes(scopes: Any) -> list[str]:
    valid = {choice.value for choice in ApiScope}
    if scopes is None:
        return [ApiScope.READ.value]
    if not isinstance(scopes, list | tuple) or not scopes:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"scopes": ["A non-empty list of scopes."]}
        )
    unknown = sorted({str(scope) for scope in scopes} - valid)
    if unknown:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            details={"scopes": [f"Unknown scope(s): {', '.join(unknown)}."]},
        )
    return [scope for scope in ("read", "generate", "report") if scope in scopes]


def api_key_create(*, user: User, name: str, scopes: Any = None) -> CreatedApiKey:
    """Create a key; the secret exists only in the return value (stored as SHA-256)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"name": ["A name of 1 to 100 characters."]}
        )
    clean_scopes = _clean_scopes(scopes)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= API_KEY_MAX_ACTIVE:
            raise ApplicationError(
                ErrorCode.CONFLICT, f"At most {API_KEY_MAX_ACTIVE} active keys; revoke one first."
            )
        prefix = API_KEY_PREFIX + secrets.token_hex(4)
        raw_key = f"{prefix}_{secrets.token_urlsafe(32)}"
        api_key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(raw_key),
            scopes=clean_scopes,
        )
    return CreatedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke (idempotent): the key stops authenticating at once."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


@dataclass(frozen=True)
class LookupColumns:
    """More for the API key lookup to read in its own statement: a select list over the
    key's user (alias ``u``) and its parameters, in order. A view asks for them (its
    ``api_key_lookup_columns(request)``, ``accounts.authentication``) to save a round
    trip; they come back as the key's ``lookup_columns``."""

    sql: str
    params: tuple[Any, ...] = ()


@functools.cache
def _api_key_lookup_sql(columns: str) -> str:
    key, user = ApiKey._meta, User._meta
    return (
        f"SELECT {model_columns(ApiKey, 'k')}, {model_columns(User, 'u')}{columns} "  # noqa: S608
        f"FROM {key.db_table} k JOIN {user.db_table} u "
        f"ON u.{user.pk.column} = k.{key.get_field('user').column} "
        f"WHERE k.{key.get_field('key_hash').column} = %s "
        f"AND k.{key.get_field('revoked_at').column} IS NULL"
    )


def _api_key_with_user(*, key_hash: str, columns: LookupColumns | None = None) -> ApiKey | None:
    """The unrevoked key with this hash and its user, in one statement: on every API
    request, so written as SQL over the models' columns (the ORM's query building cost
    more CPU than the lookup); the instances are built as the ORM builds them."""
    extra = f", {columns.sql}" if columns is not None else ""
    params = [*columns.params, key_hash] if columns is not None else [key_hash]
    with connection.cursor() as cursor:
        cursor.execute(_api_key_lookup_sql(extra), params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ApiKey._meta.concrete_fields)
    user_end = width + len(User._meta.concrete_fields)
    api_key = model_from_row(ApiKey, row[:width])
    api_key.user = model_from_row(User, row[width:user_end])
    if columns is not None:
        api_key.lookup_columns = tuple(row[user_end:])
    return api_key


def api_key_authenticate(*, raw_key: str, columns: LookupColumns | None = None) -> ApiKey | None:
    """The active key for this secret, or None; marks it used (at most once a minute).
    ``columns``: more to read in the same statement (the key's ``lookup_columns``)."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = _api_key_with_user(key_hash=api_key_hash(raw_key), columns=columns)
    if api_key is None or not api_key.user.is_active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- manual age verification and flags -----------------------------------------------


def _age_snapshot(user: User) -> dict[str, Any]:
    return {
        "age_verification_status": user.age_verification_status,
        "age_verified_at": user.age_verified_at.isoformat() if user.age_verified_at else None,
    }


def age_verification_record_manual(
    *, user: User, actor: User, is_verified: bool, evidence_note: str
) -> AgeVerification:
    """A senior moderator records a manual age check, with the evidence seen (audited).

    Only senior moderators (or superusers) may, and never for their own account.
    """
    evidence_note = (evidence_note or "").strip()
    if not user_is_senior_moderator(actor) or actor.pk == user.pk:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED)
    if not evidence_note:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"evidence_note": ["Describe the evidence seen."]}
        )
    now = timezone.now()
    min_age = user_jurisdiction(user=user).min_age
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = _age_snapshot(locked)
        verification = AgeVerification.objects.create(
            user=locked,
            method=AgeVerificationMethod.MANUAL,
            outcome=AgeVerificationOutcome.VERIFIED
            if is_verified
            else AgeVerificationOutcome.REJECTED,
            min_age=min_age,
            checked_at=now,
            decided_by=actor,
            evidence_note=evidence_note,
        )
        if is_verified:
            locked.age_verification_status = AgeVerificationStatus.VERIFIED
            locked.age_verified_at = now
        else:
            locked.age_verification_status = AgeVerificationStatus.FAILED
            locked.age_verified_at = None
        locked.save(update_fields=["age_verification_status", "age_verified_at"])
        audit_record(
            actor=actor,
            action="accounts.age_verification.manual",
            target=locked,
            before=before,
            after={**_age_snapshot(locked), "verification_id": str(verification.pk)},
            reason=evidence_note,
        )
    user.age_verification_status = locked.age_verification_status
    user.age_verified_at = locked.age_verified_at
    return verification


def age_verification_flag_resolve(
    *, flag: AgeVerificationFlag, actor: User, note: str
) -> AgeVerificationFlag:
    """A senior moderator closes a flag with a note (audited)."""
    note = (note or "").strip()
    if not user_is_senior_moderator(actor):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED)
    if not note:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"note": ["Give a note."]})
    with transaction.atomic():
        updated = AgeVerificationFlag.objects.filter(
            pk=flag.pk, status=AgeVerificationFlag.Status.OPEN
        ).update(
            status=AgeVerificationFlag.Status.RESOLVED,
            resolved_by=actor,
            resolved_at=timezone.now(),
            resolution_note=note,
        )
        if updated:
            audit_record(
                actor=actor,
                action="accounts.age_verification_flag.resolve",
                target=flag,
                before={"status": "open"},
                after={"status": "resolved"},
                reason=note,
            )
    flag.refresh_from_db()
    return flag
