"""core.sql: the lean statements of the submit path write and read what the ORM would."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey, Jurisdiction, User, jurisdiction_cache_clear
from accounts.services import api_key_create
from billing.models import CreditLedgerEntry, LedgerKind
from core.sql import (
    Guard,
    SqlValue,
    guards_supported,
    insert_select,
    model_columns,
    model_from_row,
    row_insert,
    rows_insert,
)
from generation.models import GenerationJob
from generation.selectors import QUEUE_SEQUENCE
from moderation.models import ModerationDecision, PromptLog
from moderation.policy import policy_current
from tests.generation.conftest import make_adult

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="nextval and data-modifying WITH: PostgreSQL"
)


def stored(model: Any, pk: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in leave_out}


def log_fields(user: User) -> dict[str, Any]:
    return {
        "user_id": user.pk, "prompt": "a fox", "negative_prompt": "", "normalized_prompt": "a fox",
        "ip_hash": "ab", "jurisdiction": "DE",
        "decision": "allow", "category": "", "policy_version": policy_current(),
    }  # fmt: skip


def test_row_insert_stores_what_create_stores() -> None:
    user = make_adult()
    by_orm = PromptLog.objects.create(**log_fields(user))
    lean = row_insert(PromptLog(**log_fields(user)))
    assert not lean._state.adding and lean._state.db == "default"
    leave_out = ("id", "created_at")
    assert stored(PromptLog, lean.pk, leave_out=leave_out) == stored(
        PromptLog, by_orm.pk, leave_out=leave_out
    )
    assert PromptLog.objects.get(pk=lean.pk).created_at == lean.created_at


def test_row_insert_stores_a_json_field_as_create_stores_it() -> None:
    user = make_adult()

    def decision() -> ModerationDecision:
        return ModerationDecision(
            user=user, stage="prompt", decision="allow", policy_version=policy_current(),
            scores={"rules": [], "n": 1.5, "text": "ä \u2028"},
        )  # fmt: skip

    by_orm = decision()
    by_orm.save(force_insert=True)
    lean = row_insert(decision())
    leave_out = ("id", "created_at")
    assert stored(ModerationDecision, lean.pk, leave_out=leave_out) == stored(
        ModerationDecision, by_orm.pk, leave_out=leave_out
    )
    assert ModerationDecision.objects.get(pk=lean.pk).scores["text"] == "ä \u2028"


def test_row_insert_reads_back_the_auto_primary_key_and_applies_auto_now_add() -> None:
    user = make_adult()
    entry = row_insert(
        CreditLedgerEntry(
            user_id=user.pk, kind=LedgerKind.GRANT, amount=5, reference="t:1",
            balance_after=5, reserved_after=0,
        )
    )  # fmt: skip
    assert isinstance(entry.pk, int)
    assert entry.created_at is not None
    assert stored(CreditLedgerEntry, entry.pk) == {
        "id": entry.pk, "user_id": user.pk, "kind": "grant", "amount": 5, "reference": "t:1",
        "reason": "", "balance_after": 5, "reserved_after": 0, "created_by_id": None,
        "created_at": entry.created_at,
    }  # fmt: skip


def test_a_save_receiver_sends_row_insert_through_the_orm() -> None:
    user = make_adult()
    heard: list[Any] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=PromptLog, dispatch_uid="test-core-sql")
    try:
        log = row_insert(PromptLog(**log_fields(user)))
    finally:
        post_save.disconnect(dispatch_uid="test-core-sql", sender=PromptLog)
    assert heard == [(log.pk, True)]


@ON_POSTGRESQL
def test_a_sql_value_is_computed_by_the_insert_and_read_back() -> None:
    user = make_adult()
    job = GenerationJob(
        user=user, prompt="a fox", model_id="tiny-test", width=64, height=64, steps=1,
        guidance_scale=7.5, seed=1, credits_reserved=1,
        queue_seq=cast(Any, SqlValue("nextval(%s)", (QUEUE_SEQUENCE,))),
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        row_insert(job)
    assert len(queries.captured_queries) == 1
    assert isinstance(job.queue_seq, int)
    assert GenerationJob.objects.get(pk=job.pk).queue_seq == job.queue_seq
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM generation_queue_seq")
        assert cursor.fetchone()[0] == job.queue_seq


def test_rows_insert_writes_rows_that_refer_to_each_other() -> None:
    user = make_adult()
    log = PromptLog(**log_fields(user))
    decision = ModerationDecision(
        user=user, stage="prompt", decision="allow", policy_version=policy_current(),
        prompt_log=log, scores={"a": 1},
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        rows_insert(log, decision)
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert ModerationDecision.objects.get(pk=decision.pk).prompt_log_id == log.pk
    assert PromptLog.objects.filter(pk=log.pk).exists()
    assert not log._state.adding and not decision._state.adding


def test_model_from_row_builds_what_the_orm_builds() -> None:
    user = make_adult()
    key = api_key_create(user=user, name="k", scopes=["read", "generate"]).api_key
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(ApiKey, 'k')}, {model_columns(User, 'u')} "  # noqa: S608
            "FROM accounts_apikey k JOIN accounts_user u ON u.id = k.user_id WHERE k.id = %s",
            [ApiKey._meta.pk.get_db_prep_value(key.pk, connection)],
        )
        row = cursor.fetchone()
    width = len(ApiKey._meta.concrete_fields)
    lean_key, lean_user = model_from_row(ApiKey, row[:width]), model_from_row(User, row[width:])
    by_orm = ApiKey.objects.select_related("user").get(pk=key.pk)
    for model, lean, orm in ((ApiKey, lean_key, by_orm), (User, lean_user, by_orm.user)):
        for field in model._meta.concrete_fields:
            assert getattr(lean, field.attname) == getattr(orm, field.attname), field.name
        assert not lean._state.adding
    assert lean_key.scopes == ["read", "generate"]


def test_a_model_with_its_own_save_is_saved_through_it() -> None:
    calls: list[str] = []
    original = Jurisdiction.save

    def counting_save(self: Jurisdiction, *args: Any, **kwargs: Any) -> None:
        calls.append(self.country)
        original(self, *args, **kwargs)

    Jurisdiction.save = counting_save  # type: ignore[method-assign]
    try:
        row_insert(Jurisdiction(country="ZZ", name="Testland", min_age=18))
    finally:
        Jurisdiction.save = original  # type: ignore[method-assign]
        jurisdiction_cache_clear()
    assert calls == ["ZZ"]
    assert Jurisdiction.objects.filter(country="ZZ").exists()


@pytest.mark.parametrize("source_rows", [1, 0])
def test_insert_select_writes_the_row_row_insert_writes_once_per_source_row(
    db: None, source_rows: int
) -> None:
    """``insert_select``: the same columns and values as ``row_insert``, one row per row
    of the source (none for an empty one), a ``SqlValue`` reading the source's column."""
    user = User.objects.create_user(email="insert-select@example.com", password="x" * 12)
    entry = CreditLedgerEntry(
        user_id=user.pk,
        kind=LedgerKind.ADJUSTMENT,
        amount=5,
        reference="insert-select",
        reason="test",
        balance_after=cast(Any, SqlValue("src.balance")),
        reserved_after=0,
    )
    sql, params = insert_select(entry, f"(SELECT 42 AS balance WHERE {source_rows} = 1) src")
    assert sql.startswith('INSERT INTO "billing_creditledgerentry" (')
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    written = list(CreditLedgerEntry.objects.filter(reference="insert-select"))
    assert len(written) == source_rows
    if source_rows:
        row = written[0]
        assert (row.user_id, row.kind, row.amount, row.reason) == (user.pk, "adjustment", 5, "test")
        assert (row.balance_after, row.reserved_after) == (42, 0)
        assert row.created_at is not None


def test_insert_select_refuses_a_model_a_save_receiver_listens_for(db: None) -> None:
    def receiver(**_: Any) -> None:
        pass

    post_save.connect(receiver, sender=CreditLedgerEntry, weak=False)
    try:
        with pytest.raises(TypeError):
            insert_select(
                CreditLedgerEntry(user_id=uuid.uuid4(), kind="grant", amount=1), "(SELECT 1) src"
            )
    finally:
        post_save.disconnect(receiver, sender=CreditLedgerEntry)


def _guarded_rows(user: User, reference: str) -> tuple[PromptLog, ModerationDecision, Any]:
    log = PromptLog(**log_fields(user))
    decision = ModerationDecision(
        user=user, stage="prompt", decision="allow", policy_version=policy_current(),
        prompt_log=log, scores={"a": 1},
    )  # fmt: skip
    entry = CreditLedgerEntry(
        user_id=user.pk, kind=LedgerKind.ADJUSTMENT, amount=3, reference=reference, reason="test",
        balance_after=cast(Any, SqlValue("g.left_over")), reserved_after=0,
    )  # fmt: skip
    return log, decision, entry


@ON_POSTGRESQL
@pytest.mark.parametrize("found", [True, False])
def test_a_guarded_rows_insert_is_one_statement_written_only_when_the_guard_finds_its_row(
    found: bool,
) -> None:
    """The guard (a data-modifying statement) and every INSERT are one statement; each
    row is read back (an auto primary key, a ``SqlValue`` naming the guard's column);
    when the guard finds no row nothing is written and no instance is marked saved."""
    user = make_adult()
    other = make_adult()
    log, decision, entry = _guarded_rows(user, "guarded")
    # The guard updates ``user`` (found) or a user id that does not exist (not found).
    guard = Guard(
        "g",
        "UPDATE accounts_user SET country = %s WHERE id = %s RETURNING 7 AS left_over",
        ("FR", user.pk if found else uuid.uuid4()),
    )
    assert guards_supported()
    with CaptureQueriesContext(connection) as queries:
        written = rows_insert(log, decision, entry, guard=guard)
    assert len(queries.captured_queries) == 1
    assert written is found
    assert PromptLog.objects.filter(pk=log.pk).exists() is found
    assert ModerationDecision.objects.filter(pk=decision.pk).exists() is found
    assert CreditLedgerEntry.objects.filter(reference="guarded").count() == int(found)
    assert User.objects.get(pk=user.pk).country == ("FR" if found else user.country)
    assert User.objects.get(pk=other.pk).country == other.country
    if found:
        stored_entry = CreditLedgerEntry.objects.get(reference="guarded")
        assert (entry.pk, entry.balance_after) == (stored_entry.pk, 7)
        assert stored_entry.balance_after == 7
        assert ModerationDecision.objects.get(pk=decision.pk).prompt_log_id == log.pk
    assert [r._state.adding for r in (log, decision, entry)] == [not found] * 3


def test_a_guard_is_refused_where_the_database_has_no_data_modifying_with() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL takes a guard")
    user = make_adult()
    log, decision, entry = _guarded_rows(user, "refused")
    assert not guards_supported()
    with pytest.raises(TypeError):
        rows_insert(log, decision, entry, guard=Guard("g", "SELECT 1 AS left_over"))
    assert not PromptLog.objects.filter(pk=log.pk).exists()
    assert not CreditLedgerEntry.objects.filter(reference="refused").exists()


def _inserted_models() -> list[Any]:
    from django.apps import apps

    from core.sql import _insert_statement

    project = {"accounts", "billing", "generation", "moderation", "accountability", "core"}
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in project
        and _insert_statement(model, "default", True, ()) is not None
    ]


VALUES: list[Any] = [
    None, "", "a fox", "7", "2b1c3d4e-0000-4000-8000-000000000000", 0, 7, -3, 2**40,
    True, False, 1.5, uuid.UUID("2b1c3d4e-0000-4000-8000-000000000000"),
    timezone.now(), {"a": 1}, [1, 2],
]  # fmt: skip


def test_the_lean_insert_prepares_every_value_as_get_db_prep_save_does() -> None:
    """``core.sql._prepared`` skips ``get_db_prep_save``'s calls for the usual values of
    the usual fields; for every field of every model it inserts, and values of every
    kind, the answer is the same value of the same type (or the same error)."""
    from core.sql import _insert_statement, _prepared

    models = _inserted_models()
    assert GenerationJob in models and PromptLog in models and CreditLedgerEntry in models
    fast_paths = 0
    for model in models:
        statement = _insert_statement(model, "default", True, ())
        assert statement is not None
        assert [prep.field for prep in statement.preps] == list(statement.fields)
        for prep in statement.preps:
            fast_paths += bool(prep.exact)
            for value in VALUES:
                try:
                    expected: Any = prep.field.get_db_prep_save(value, connection=connection)
                except Exception as error:  # the same error either way
                    expected = type(error)
                try:
                    got: Any = _prepared(prep, value, connection)
                except Exception as error:
                    got = type(error)
                where = f"{model.__name__}.{prep.field.name} = {value!r}"
                assert type(got) is type(expected), where
                if isinstance(expected, type):
                    assert got is expected, where
                else:
                    assert repr(got) == repr(expected), where
    assert fast_paths > 50  # the usual fields do take the short way
