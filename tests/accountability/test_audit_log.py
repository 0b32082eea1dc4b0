from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accountability.audit import GENESIS_HASH, audit_record, audit_verify_chain
from accountability.models import AuditLogEntry
from accounts.models import User
from tests.tamper import triggers_off


@pytest.fixture
def chain(db) -> list[AuditLogEntry]:
    actor = User.objects.create_user(email="senior@example.com", password="x-long-password")
    return [
        audit_record(actor=actor, action="policy.update", target=actor, after={"n": n}, reason="r")
        for n in range(3)
    ]


def test_entries_chain_to_each_other(chain: list[AuditLogEntry]) -> None:
    assert chain[0].prev_hash == GENESIS_HASH
    assert chain[1].prev_hash == chain[0].entry_hash
    assert chain[2].prev_hash == chain[1].entry_hash
    assert chain[0].actor_label == f"user:{chain[0].actor_id}"  # a pseudonym, not the address
    assert audit_verify_chain() is None
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "3 entries verified" in out.getvalue()


def _tamper(entry: AuditLogEntry, **changes: object) -> None:
    with triggers_off(AuditLogEntry):
        AuditLogEntry.objects.filter(pk=entry.pk).update(**changes)


def test_altered_row_is_named_by_the_verifier(chain: list[AuditLogEntry]) -> None:
    _tamper(chain[1], reason="nothing to see")
    problem = audit_verify_chain()
    assert problem is not None and problem.entry_id == chain[1].pk
    with pytest.raises(CommandError, match=f"entry {chain[1].pk}"):
        call_command("verify_audit_log")


def test_deleted_row_breaks_the_chain_at_the_next_row(chain: list[AuditLogEntry]) -> None:
    with triggers_off(AuditLogEntry):
        AuditLogEntry.objects.filter(pk=chain[1].pk).delete()
    problem = audit_verify_chain()
    assert problem is not None and problem.entry_id == chain[2].pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete(chain: list[AuditLogEntry]) -> None:
    for statement in (
        lambda: AuditLogEntry.objects.filter(pk=chain[0].pk).update(reason="changed"),
        lambda: AuditLogEntry.objects.filter(pk=chain[0].pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            statement()
    assert AuditLogEntry.objects.get(pk=chain[0].pk).reason == "r"
    assert AuditLogEntry.objects.count() == 3
