"""The credit ledger's services (SPEC §4).

Every change locks the user's ``CreditAccount`` row (``select_for_update``) first, then
checks, then writes the account and one append-only ledger entry in the same
transaction; a reservation (on every submit) does the lock, the check, the write and
its ledger entry in one statement (a conditional ``UPDATE`` whose ``RETURNING`` feeds
the entry's INSERT). The account's
balance never goes negative (a CHECK constraint backs the checks), and the ledger's
unique constraints make each grant, reservation and settlement happen at most once per
reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accountability.audit import audit_record
from billing.models import CreditAccount, CreditLedgerEntry, LedgerKind
from core.errors import ApplicationError, ErrorCode
from core.sql import Guard, SqlValue, insert_select, row_insert_unless_conflict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreditBalance:
    balance: int
    reserved: int


@dataclass(frozen=True)
class CreditReservation:
    reference: str
    amount: int
    balance: int
    reserved: int
    created: bool


@dataclass(frozen=True)
class CreditSettlement:
    reference: str
    kind: str
    amount: int
    created: bool


def _locked_account(*, user: Any) -> CreditAccount:
    CreditAccount.objects.get_or_create(user=user)
    return CreditAccount.objects.select_for_update().get(user=user)


def _entry(
    *,
    account: CreditAccount,
    kind: str,
    amount: int,
    reference: str = "",
    reason: str = "",
    created_by: Any | None = None,
) -> CreditLedgerEntry:
    account.save(update_fields=["balance", "reserved", "updated_at"])
    return CreditLedgerEntry.objects.create(
        user_id=account.user_id,
        kind=kind,
        amount=amount,
        reference=reference,
        reason=reason,
        balance_after=account.balance,
        reserved_after=account.reserved,
        created_by=created_by,
    )


def credits_balance(*, user: Any) -> CreditBalance:
    account = CreditAccount.objects.filter(user=user).only("balance", "reserved").first()
    if account is None:
        return CreditBalance(balance=0, reserved=0)
    return CreditBalance(balance=account.balance, reserved=account.reserved)


def credits_reserve(*, user: Any, amount: int, reference: str) -> CreditReservation:
    """Hold ``amount`` credits for ``reference``; 402 ``quota_exhausted`` if short.

    One conditional ``UPDATE … WHERE balance >= amount AND <no reservation for this
    reference> RETURNING`` takes the credits (the row lock lasts only from there to the
    caller's commit, and the check and the write are one statement, so concurrent
    callers can never spend the balance twice), and writes its ledger entry in the same
    statement on PostgreSQL (one round trip per submit; ``_take_and_record``).
    Idempotent per reference: a repeat finds the first reservation and moves nothing.
    Two concurrent first calls for one reference both pass the check; the ledger's
    unique reservation per reference then refuses the second entry (``ON CONFLICT DO
    NOTHING``: no error, no savepoint) and the second call gives back what it took,
    under the same row lock, before answering the first reservation.
    """
    if amount <= 0:
        raise ValueError("A reservation must be for at least one credit.")
    if not reference:
        raise ValueError("A reservation needs a reference.")
    user_id = getattr(user, "pk", user)
    with transaction.atomic(savepoint=False):
        taken = _take_and_record(user_id=user_id, amount=amount, reference=reference)
        if taken is not None:
            balance, reserved, recorded = taken
            if recorded:
                return CreditReservation(
                    reference=reference,
                    amount=amount,
                    balance=balance,
                    reserved=reserved,
                    created=True,
                )
            _take(user_id=user_id, amount=-amount)  # reserved meanwhile: give it back
    existing = CreditLedgerEntry.objects.filter(
        kind=LedgerKind.RESERVE, reference=reference
    ).first()
    current = credits_balance(user=user)
    if existing is not None:
        if existing.user_id != user_id:
            raise ValueError(f"Reference {reference!r} belongs to another user.")
        return CreditReservation(
            reference=reference,
            amount=int(existing.amount),
            balance=current.balance,
            reserved=current.reserved,
            created=False,
        )
    raise credits_short(balance=current.balance, amount=amount)


def credits_short(*, balance: int, amount: int) -> ApplicationError:
    """The 402 ``quota_exhausted`` of a reservation the balance does not cover."""
    return ApplicationError(
        ErrorCode.QUOTA_EXHAUSTED, details={"required": amount, "balance": balance}
    )


def credits_reserve_rows(
    *, user_id: Any, amount: int, reference: str
) -> tuple[Guard, CreditLedgerEntry]:
    """``credits_reserve`` as parts of the caller's one statement, for a reference that
    holds no reservation yet (a new job's): the guard that takes the credits (the same
    conditional ``UPDATE``, ``RETURNING balance, reserved``) and the reservation's ledger
    entry, for ``core.sql.rows_insert(..., entry, guard=guard)`` (PostgreSQL). When the
    balance does not cover ``amount`` the guard takes nothing and nothing is written: the
    caller answers ``credits_short``. A second reservation for the reference (which a new
    reference cannot have) takes nothing either, and a concurrent one breaks the ledger's
    unique reservation per reference: ``IntegrityError``, nothing written."""
    if amount <= 0:
        raise ValueError("A reservation must be for at least one credit.")
    if not reference:
        raise ValueError("A reservation needs a reference.")
    update, params = _take_statement(user_id=user_id, amount=amount, reference=reference)
    entry = _reserve_entry(
        user_id=user_id,
        amount=amount,
        reference=reference,
        after=(SqlValue("taken.balance"), SqlValue("taken.reserved")),
    )
    return Guard("taken", f"{update} RETURNING balance, reserved", tuple(params)), entry


def _take_and_record(*, user_id: Any, amount: int, reference: str) -> tuple[int, int, bool] | None:
    """``_take`` and the reservation's ledger entry: the new (balance, reserved) and
    whether the entry was written (no when a concurrent call wrote one for the same
    reference first: ``ON CONFLICT DO NOTHING``), or None when nothing was taken.

    On PostgreSQL one statement (the entry's INSERT reads the UPDATE's ``RETURNING`` in
    a data-modifying ``WITH``, so it is written only when the credits were taken);
    elsewhere the UPDATE, then the INSERT."""
    if connection.vendor != "postgresql":
        taken = _take(user_id=user_id, amount=amount, reference=reference)
        if taken is None:
            return None
        entry = row_insert_unless_conflict(
            _reserve_entry(user_id=user_id, amount=amount, reference=reference, after=taken)
        )
        return (*taken, entry is not None)
    update, update_params = _take_statement(user_id=user_id, amount=amount, reference=reference)
    insert, insert_params = insert_select(
        _reserve_entry(
            user_id=user_id,
            amount=amount,
            reference=reference,
            after=(SqlValue("taken.balance"), SqlValue("taken.reserved")),
        ),
        "taken",
    )
    sql = (
        f"WITH taken AS ({update} RETURNING balance, reserved), "  # noqa: S608
        f"entry AS ({insert} ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT balance, reserved, EXISTS (SELECT 1 FROM entry) FROM taken"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, update_params + insert_params)
        row = cursor.fetchone()
    return (int(row[0]), int(row[1]), bool(row[2])) if row else None


def _reserve_entry(
    *, user_id: Any, amount: int, reference: str, after: tuple[Any, Any]
) -> CreditLedgerEntry:
    return CreditLedgerEntry(
        user_id=user_id,
        kind=LedgerKind.RESERVE,
        amount=amount,
        reference=reference,
        balance_after=after[0],
        reserved_after=after[1],
    )


def _take(*, user_id: Any, amount: int, reference: str | None = None) -> tuple[int, int] | None:
    """Move ``amount`` from balance to reserved if the balance covers it and
    ``reference`` (when given) holds no reservation yet, in one statement; the new
    (balance, reserved), or None when not (or no account). A negative ``amount`` moves
    it back."""
    sql, params = _take_statement(user_id=user_id, amount=amount, reference=reference)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING balance, reserved", params)
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _take_statement(*, user_id: Any, amount: int, reference: str | None) -> tuple[str, list[Any]]:
    meta = CreditAccount._meta
    user_column = meta.get_field("user")
    user_value = user_column.get_db_prep_value(user_id, connection)
    now = meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)
    sql = (
        f"UPDATE {meta.db_table} SET balance = balance - %s, "  # noqa: S608
        "reserved = reserved + %s, updated_at = %s "
        f"WHERE {user_column.column} = %s AND balance >= %s"
    )
    params = [amount, amount, now, user_value, amount]
    if reference is not None:
        ledger = CreditLedgerEntry._meta
        sql += (
            f" AND NOT EXISTS (SELECT 1 FROM {ledger.db_table} "  # noqa: S608
            f"WHERE {ledger.get_field('kind').column} = %s "
            f"AND {ledger.get_field('reference').column} = %s)"
        )
        params += [LedgerKind.RESERVE.value, reference]
    return sql, params


def _settle(*, reference: str, kind: str, reason: str) -> CreditSettlement | None:
    reservation = CreditLedgerEntry.objects.filter(
        kind=LedgerKind.RESERVE, reference=reference
    ).first()
    if reservation is None:
        logger.warning("No credit reservation %r to %s", reference, kind)
        return None
    account = _locked_account(user=reservation.user)
    settled = CreditLedgerEntry.objects.filter(
        kind__in=[LedgerKind.COMMIT, LedgerKind.RELEASE], reference=reference
    ).first()
    if settled is not None:
        return CreditSettlement(
            reference=reference, kind=settled.kind, amount=int(settled.amount), created=False
        )
    amount = int(reservation.amount)
    account.reserved -= amount
    if kind == LedgerKind.RELEASE:
        account.balance += amount
    _entry(account=account, kind=kind, amount=amount, reference=reference, reason=reason)
    return CreditSettlement(reference=reference, kind=kind, amount=amount, created=True)


@transaction.atomic
def credits_commit(*, reference: str) -> CreditSettlement | None:
    """Spend a reservation. Settles it at most once; ``None`` if none was made."""
    return _settle(reference=reference, kind=LedgerKind.COMMIT, reason="")


@transaction.atomic
def credits_release(*, reference: str, reason: str) -> CreditSettlement | None:
    """Give a reservation back. Settles it at most once; ``None`` if none was made."""
    return _settle(reference=reference, kind=LedgerKind.RELEASE, reason=reason)


@transaction.atomic
def credits_grant(*, user: Any, amount: int, reason: str, reference: str) -> CreditLedgerEntry:
    """Add credits once per ``reference`` (e.g. ``invoice:<id>``); a repeat is a no-op."""
    if amount <= 0:
        raise ValueError("A grant must be for at least one credit.")
    if not reference:
        raise ValueError("A grant needs a reference.")
    account = _locked_account(user=user)
    existing = CreditLedgerEntry.objects.filter(kind=LedgerKind.GRANT, reference=reference).first()
    if existing is not None:
        return existing
    account.balance += amount
    return _entry(
        account=account, kind=LedgerKind.GRANT, amount=amount, reference=reference, reason=reason
    )


@transaction.atomic
def credits_adjust(
    *,
    user: Any,
    amount: int,
    reason: str,
    actor: Any | None,
    reference: str = "",
    clamp: bool = False,
) -> CreditLedgerEntry | None:
    """Change a balance by hand or by rule, with a reason, audited.

    A negative adjustment larger than the spendable balance is refused, or with
    ``clamp`` reduced to the balance (reserved credits are never taken). With a
    ``reference`` the adjustment happens at most once. Answers ``None`` when nothing
    was left to take.
    """
    reason = reason.strip()
    if not reason:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Required."]})
    if amount == 0:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"amount": ["Not zero."]})
    account = _locked_account(user=user)
    if reference:
        existing = CreditLedgerEntry.objects.filter(
            kind=LedgerKind.ADJUSTMENT, reference=reference
        ).first()
        if existing is not None:
            return existing
    if account.balance + amount < 0:
        if not clamp:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                "The balance would go negative.",
                details={"amount": [f"At most {account.balance} can be taken."]},
            )
        amount = -account.balance
        if amount == 0:
            return None
    before = {"balance": account.balance, "reserved": account.reserved}
    account.balance += amount
    entry = _entry(
        account=account,
        kind=LedgerKind.ADJUSTMENT,
        amount=amount,
        reference=reference,
        reason=reason,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="billing.credits_adjust",
        target=account,
        before=before,
        after={"balance": account.balance, "reserved": account.reserved, "amount": amount},
        reason=reason,
    )
    return entry
