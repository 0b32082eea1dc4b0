"""Lean SQL over the models' own tables, for the few statements on every request.

Building a query through the ORM (the query object, its compiler, the quoting of every
column) costs more CPU than PostgreSQL spends running a short statement; on the submit
path that overhead was most of the web process's time (docs/benchmarks.md). These helpers
build a statement's text once per model and process, and keep the ORM's meaning:

- ``model_columns`` and ``model_from_row``: a model instance from a row of a hand-written
  SELECT (all its concrete columns, in the model's order), converted as the ORM converts.
- ``row_insert``: ``Model.objects.create``'s INSERT for an instance built in Python
  (defaults and ``auto_now_add`` applied by the fields themselves), falling back to the
  ORM whenever a field or a signal needs it; ``SqlValue`` for a column the database
  computes in the same statement; ``rows_insert`` for several rows in one statement;
  ``row_insert_unless_conflict`` for an INSERT that a unique constraint may refuse;
  ``insert_select`` for an INSERT that an earlier part of the same statement decides on;
  ``rows_insert(..., guard=Guard(...))`` for rows written only when a data-modifying
  statement of their own (a conditional ``UPDATE … RETURNING``) finds its row, all in
  one statement, which needs no transaction around it.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import NOT_PROVIDED, Field, ForeignKey, Model, fields
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


def model_columns(model: type[Model], alias: str) -> str:
    """``alias.column, …`` for every concrete field of ``model``, in ``model_from_row``'s order."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], using: str) -> tuple[tuple[int, list[Converter], Any], ...]:
    connection = connections[using]
    table = model._meta.db_table
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, converters, column))
    return tuple(found)


def model_from_row(model: type[M], values: Sequence[Any], *, using: str = "default") -> M:
    """An instance of ``model`` from the values of ``model_columns``, as the ORM makes one."""
    row = list(values)
    connection = connections[using]
    for index, converters, column in _converters(model, using):
        for converter in converters:
            row[index] = converter(row[index], column, connection)
    return model.from_db(using, None, row)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SqlValue:
    """A column value the database computes in the INSERT itself (``nextval(...)``):
    ``row_insert`` writes ``sql`` in the value's place and reads the result back into
    the instance, one statement instead of a SELECT and then the INSERT."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Guard:
    """A data-modifying statement that decides whether ``rows_insert`` writes its rows.

    It runs first, as ``WITH name AS (sql)``; each row is inserted once for each row it
    returns (its ``RETURNING`` columns may be named by a row's ``SqlValue``:
    ``name.column``). When it returns no row, nothing is written."""

    name: str
    sql: str  # "UPDATE … RETURNING …", with %s placeholders
    params: tuple[Any, ...] = ()


def guards_supported(using: str = "default") -> bool:
    """True where ``rows_insert`` takes a ``guard`` (PostgreSQL's data-modifying ``WITH``)."""
    return connections[using].vendor == "postgresql"


# Field classes whose ``get_db_prep_save`` returns a value of these exact types (and
# None) unchanged: the base ``Field`` conversions, ``to_python`` of a str or a bool.
_UNCHANGED: dict[type[Field[Any, Any]], tuple[type, ...]] = {
    fields.CharField: (str,),
    fields.TextField: (str,),
    fields.BooleanField: (bool,),
}
# Integer fields: an int goes through ``int()`` (unchanged) and then the backend's
# ``adapt_integerfield_value`` (psycopg's typed integers on PostgreSQL).
_INTEGER_FIELDS = (
    fields.IntegerField,
    fields.BigIntegerField,
    fields.SmallIntegerField,
    fields.PositiveIntegerField,
    fields.PositiveBigIntegerField,
    fields.PositiveSmallIntegerField,
)


@dataclass(frozen=True)
class _Prep:
    """How ``_plan`` reads and prepares one field's value: ``pre_save`` unless the field
    keeps ``Field.pre_save`` (then the attribute), and for a value of one of ``exact``
    types (or None), ``adapt`` (or nothing), which is what ``get_db_prep_save`` does to
    it; any other value takes ``get_db_prep_save`` itself. ``tests/test_core_sql.py``
    holds the two equal for every field of the models inserted this way."""

    field: Field[Any, Any]
    attname: str
    own_pre_save: bool
    exact: tuple[type, ...]
    adapt: Callable[[Any], Any] | None = None


def _prep_for(field: Field[Any, Any], connection: Any) -> _Prep:
    kind = type(field)
    own_pre_save = kind.pre_save is not Field.pre_save
    exact: tuple[type, ...] = _UNCHANGED.get(kind, ())
    adapt: Callable[[Any], Any] | None = None
    if kind in _INTEGER_FIELDS:
        exact, internal = (int,), field.get_internal_type()
        adapt = functools.partial(_adapt_integer, connection.ops, internal)
    elif connection.features.has_native_uuid_field and (
        kind is fields.UUIDField
        or (kind is ForeignKey and type(getattr(field, "target_field", None)) is fields.UUIDField)
    ):
        exact = (uuid.UUID,)
    return _Prep(field, field.attname, own_pre_save, exact, adapt)


def _adapt_integer(ops: Any, internal_type: str, value: Any) -> Any:
    return ops.adapt_integerfield_value(value, internal_type)


@dataclass(frozen=True)
class _Insert:
    sql: str
    head: str  # INSERT INTO table (columns)
    values: str  # the placeholders (or SqlValue SQL) of those columns
    fields: tuple[Field[Any, Any], ...]  # in parameter order (a SqlValue's own params apart)
    returning: tuple[Field[Any, Any], ...]  # the auto primary key, then SqlValue columns
    preps: tuple[_Prep, ...] = ()  # one for each of ``fields``


@functools.cache
def _insert_statement(
    model: type[Model], using: str, with_auto_pk: bool, computed: tuple[tuple[str, str], ...]
) -> _Insert | None:
    """The INSERT of ``model`` (``computed``: the attnames of ``SqlValue`` fields and their
    SQL), or None where only the ORM builds it right (inherited models, database
    defaults, generated columns, fields with their own placeholders)."""
    meta = model._meta
    if meta.parents or meta.proxy:
        return None
    fields = [f for f in meta.local_concrete_fields if with_auto_pk or f is not meta.auto_field]
    if any(
        getattr(f, "generated", False)
        or f.db_default is not NOT_PROVIDED
        or hasattr(f, "get_placeholder")
        for f in fields
    ):
        return None
    sql_of = dict(computed)
    quote = connections[using].ops.quote_name
    returning: list[Field[Any, Any]] = []
    if not with_auto_pk and meta.auto_field is not None:
        returning.append(meta.auto_field)
    returning += [f for f in fields if f.attname in sql_of]
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)})"
    values = ", ".join(sql_of.get(f.attname, "%s") for f in fields)
    sql = f"{head} VALUES ({values})"
    if returning:
        sql += f" RETURNING {', '.join(quote(str(f.column)) for f in returning)}"
    connection = connections[using]
    return _Insert(
        sql=sql,
        head=head,
        values=values,
        fields=tuple(fields),
        returning=tuple(returning),
        preps=tuple(_prep_for(field, connection) for field in fields),
    )


def _plan(instance: Model, using: str) -> tuple[_Insert, list[Any]] | None:
    """The statement and parameters that insert ``instance``; None for the ORM's way."""
    model = type(instance)
    if model.save is not Model.save:  # the model's own save() must run
        return None
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        return None
    auto_field = model._meta.auto_field
    with_auto_pk = auto_field is None or getattr(instance, auto_field.attname) is not None
    computed = tuple(
        (f.attname, value.sql)
        for f in model._meta.local_concrete_fields
        if isinstance(value := getattr(instance, f.attname, None), SqlValue)
    )
    statement = _insert_statement(model, using, with_auto_pk, computed)
    if statement is None:
        return None
    saving: Any = instance  # Model.save's own check of unsaved related objects (private)
    saving._prepare_related_fields_for_save(operation_name="save")
    connection = connections[using]
    params: list[Any] = []
    for prep in statement.preps:
        if prep.own_pre_save:
            value = prep.field.pre_save(instance, add=True)
        else:
            value = getattr(instance, prep.attname)
        if isinstance(value, SqlValue):
            params.extend(value.params)
        elif hasattr(value, "resolve_expression"):
            return None
        else:
            params.append(_prepared(prep, value, connection))
    return statement, params


def _prepared(prep: _Prep, value: Any, connection: Any) -> Any:
    """``prep.field.get_db_prep_save(value)``, without its calls for the usual values."""
    if value is None and prep.exact:
        return None
    if type(value) in prep.exact:
        return value if prep.adapt is None else prep.adapt(value)
    return prep.field.get_db_prep_save(value, connection=connection)


def _saved(instance: M, using: str, statement: _Insert, returned: Sequence[Any] | None) -> M:
    if returned is not None:
        connection = connections[using]
        for field, value in zip(statement.returning, returned, strict=True):
            for converter in field.get_db_converters(connection):
                value = converter(value, field.get_col(field.model._meta.db_table), connection)
            setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return instance


def _orm_insert(instance: M, using: str) -> M:
    """``Model.objects.create``'s own way; a ``SqlValue`` is read first (its own SELECT)."""
    for field in type(instance)._meta.local_concrete_fields:
        value = getattr(instance, field.attname, None)
        if isinstance(value, SqlValue):
            with connections[using].cursor() as cursor:
                cursor.execute(f"SELECT {value.sql}", list(value.params))
                setattr(instance, field.attname, cursor.fetchone()[0])
    instance.save(force_insert=True, using=using)
    return instance


def row_insert(instance: M) -> M:
    """Insert ``instance`` as a new row, as ``Model.objects.create`` does; returns it saved.

    The same column values (each field's ``pre_save`` and ``get_db_prep_save``), the
    auto primary key and any ``SqlValue`` read back, the instance marked as saved. Goes
    through the ORM when the model overrides ``save()``, when a ``pre_save``/``post_save``
    receiver listens for it, or when the statement is one ``_insert_statement`` does not
    build.
    """
    using = router.db_for_write(type(instance), instance=instance)
    plan = _plan(instance, using)
    if plan is None:
        return _orm_insert(instance, using)
    statement, params = plan
    with connections[using].cursor() as cursor:
        cursor.execute(statement.sql, params)
        returned = cursor.fetchone() if statement.returning else None
    return _saved(instance, using, statement, returned)


def row_insert_unless_conflict(instance: M) -> M | None:
    """``row_insert``, unless the row would break a unique constraint: then nothing is
    written (``ON CONFLICT DO NOTHING``, so the caller's transaction goes on, without a
    savepoint) and the answer is None. For a model with an auto primary key (which tells
    whether the row was written) and no save receivers."""
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    plan = _plan(instance, using)
    if plan is None or model._meta.auto_field is None or not plan[0].returning:
        raise TypeError(f"{model.__name__}: row_insert_unless_conflict cannot insert it")
    statement, params = plan
    sql, returning = statement.sql.split(" RETURNING ", 1)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql} ON CONFLICT DO NOTHING RETURNING {returning}", params)
        returned = cursor.fetchone()
    return None if returned is None else _saved(instance, using, statement, returned)


def insert_select(instance: Model, source: str) -> tuple[str, list[Any]]:
    """``INSERT INTO … SELECT <the row's values> FROM source``, and its parameters: the
    INSERT ``row_insert`` would run, one row for each row of ``source`` (none when it has
    none), for a data-modifying ``WITH`` whose earlier part decides whether the row is
    written; a ``SqlValue`` may name ``source``'s columns. Nothing is read back and the
    instance is not marked as saved. For a model ``row_insert`` inserts itself (no
    ``save()`` of its own, no save receivers); otherwise ``TypeError``."""
    using = router.db_for_write(type(instance), instance=instance)
    plan = _plan(instance, using)
    if plan is None:
        raise TypeError(f"{type(instance).__name__}: insert_select cannot insert it")
    statement, params = plan
    return f"{statement.head} SELECT {statement.values} FROM {source}", params  # noqa: S608


def rows_insert(*instances: Model, guard: Guard | None = None) -> bool:
    """Insert each of ``instances`` as ``row_insert`` does, in one statement on
    PostgreSQL (each INSERT but the last in a data-modifying ``WITH``: one round trip,
    all rows or none), where only the last reads anything back; one by one otherwise.
    Rows may refer to each other: the project's foreign keys are checked at commit.

    With ``guard`` (PostgreSQL only: ``guards_supported``; rows ``insert_select`` could
    write), the guard and every INSERT are one statement, each row read back, and the
    answer says whether anything was written: False when the guard found no row (then
    no instance is marked as saved). Returns True without a guard."""
    using = router.db_for_write(type(instances[0]), instance=instances[0])
    plans = [_plan(instance, using) for instance in instances]
    if guard is not None:
        return _rows_insert_guarded(instances, plans, guard, using)
    if (
        connections[using].vendor != "postgresql"
        or len(instances) < 2
        or any(plan is None for plan in plans)
        or any(plan[0].returning for plan in plans[:-1] if plan is not None)
    ):
        for instance in instances:
            row_insert(instance)
        return True
    ready = [plan for plan in plans if plan is not None]
    sql = "WITH " + ", ".join(
        f"_insert_{index} AS ({statement.sql})" for index, (statement, _) in enumerate(ready[:-1])
    )
    last, _ = ready[-1]
    params = [param for _, plan_params in ready for param in plan_params]
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql} {last.sql}", params)
        returned = cursor.fetchone() if last.returning else None
    for instance, (statement, _) in zip(instances[:-1], ready[:-1], strict=True):
        _saved(instance, using, statement, None)
    _saved(instances[-1], using, last, returned)
    return True


def _rows_insert_guarded(
    instances: Sequence[Model],
    plans: Sequence[tuple[_Insert, list[Any]] | None],
    guard: Guard,
    using: str,
) -> bool:
    if not guards_supported(using) or any(plan is None for plan in plans):
        raise TypeError("rows_insert: a guard needs PostgreSQL and rows insert_select writes")
    quote = connections[using].ops.quote_name
    parts = [f"{guard.name} AS ({guard.sql})"]
    params = list(guard.params)
    selected: list[str] = []
    sources: list[str] = []
    ready = [plan for plan in plans if plan is not None]
    for index, (statement, plan_params) in enumerate(ready):
        name = f"_insert_{index}"
        returning = ", ".join(quote(str(f.column)) for f in statement.returning)
        parts.append(
            f"{name} AS ({statement.head} SELECT {statement.values} FROM {guard.name}"  # noqa: S608
            + (f" RETURNING {returning})" if returning else ")")
        )
        params += plan_params
        if returning:
            sources.append(name)
            selected += [f"{name}.{quote(str(f.column))}" for f in statement.returning]
    sql = (
        f"WITH {', '.join(parts)} "  # noqa: S608
        f"SELECT {', '.join(selected) or '1'} FROM {', '.join(sources) or guard.name}"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    values = list(row)
    for instance, (statement, _) in zip(instances, ready, strict=True):
        count = len(statement.returning)
        _saved(instance, using, statement, values[:count] if count else None)
        del values[:count]
    return True
