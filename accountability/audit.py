"""Writing and verifying the hash-chained audit log (SPEC §7)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accountability.models import AuditLogEntry

GENESIS_HASH = "0" * 64
# Any fixed 64-bit number: the key of the advisory lock that serialises chain writes.
_CHAIN_LOCK_KEY = 7_301_551_024


def _canonical(entry: AuditLogEntry) -> bytes:
    content = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(entry: AuditLogEntry, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(entry)).hexdigest()


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(value or {}, default=str))


def actor_pseudonym(actor: Any) -> str:
    return f"user:{actor.pk}"


def actor_display(label: str) -> str:
    """The audit label for people reading the log: the account's address while it has
    one (an erased account shows its erased placeholder)."""
    if not label.startswith("user:"):
        return label
    from django.contrib.auth import get_user_model

    email = (
        get_user_model()
        .objects.filter(pk=label.removeprefix("user:"))
        .values_list("email", flat=True)
    )
    return next(iter(email), label)


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditLogEntry:
    """Append one entry to the chain. Writers are serialised so the chain never forks."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    is_real_actor = actor is not None and getattr(actor, "is_authenticated", False)
    actor_id = actor.pk if is_real_actor and actor is not None else None
    # A pseudonym, never the address: the chain is immutable, and erasing an account
    # must leave nothing here that names the person (accounts/personal_data.py).
    actor_label = actor_pseudonym(actor) if is_real_actor else str(actor or "system")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditLogEntry.objects.order_by("-id").only("entry_hash").first()
        prev_hash = last.entry_hash if last else GENESIS_HASH
        entry = AuditLogEntry(
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_label=actor_label[:255],
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=_jsonable(before),
            after=_jsonable(after),
            reason=reason,
            prev_hash=prev_hash,
        )
        entry.entry_hash = compute_hash(entry, prev_hash)
        entry.save()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


def audit_verify_chain() -> ChainProblem | None:
    """Walk the chain in id order; return the first row that breaks it, or None."""
    prev_hash = GENESIS_HASH
    for entry in AuditLogEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev_hash:
            return ChainProblem(entry.pk, "previous hash does not match the row before")
        if compute_hash(entry, prev_hash) != entry.entry_hash:
            return ChainProblem(entry.pk, "content does not match its hash")
        prev_hash = entry.entry_hash
    return None
