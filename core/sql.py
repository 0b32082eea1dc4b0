"""Lean SQL over the models' own tables, for the few statements on every request.

Building a query through the ORM (the query object, its compiler, the quoting of every
column) costs more CPU than PostgreSQL spends running a short statement; on the submit
path that overhead was most of the web process's time (docs/benchmarks.md). These helpers
build a statement's text once per model and process, and keep the ORM's meaning:

- ``model_columns`` and ``model_from_row``: a model instance from a row of a hand-written
  SELECT (all its concrete columns, in the model's order), converted as the ORM converts.
- ``row_insert``: ``Model.objects.create``'s INSERT for an instance built in Python
  (defaults and ``auto_now_add`` applied by the fields themselves), falling back to the
  ORM whenever a field or a signal needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import NOT_PROVIDED, Field, Model
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


@functools.cache
def _insert_statement(
    model: type[Model], using: str, with_auto_pk: bool
) -> tuple[str, tuple[Field[Any, Any], ...], Field[Any, Any] | None] | None:
    """The INSERT of ``model`` (text, fields in parameter order, the returned auto
    primary key), or None where only the ORM builds it right (inherited models, database
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
    quote = connections[using].ops.quote_name
    returning = None if with_auto_pk else meta.auto_field
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning is not None:
        sql += f" RETURNING {quote(returning.column)}"
    return sql, tuple(fields), returning


def row_insert(instance: M) -> M:
    """Insert ``instance`` as a new row, as ``Model.objects.create`` does; returns it saved.

    The same column values (each field's ``pre_save`` and ``get_db_prep_save``), the
    auto primary key read back, the instance marked as saved. Goes through the ORM when a
    ``pre_save``/``post_save`` receiver listens for the model, or when the statement is
    one ``_insert_statement`` does not build.
    """
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    meta = model._meta
    auto_field = meta.auto_field
    with_auto_pk = auto_field is None or getattr(instance, auto_field.attname) is not None
    statement = _insert_statement(model, using, with_auto_pk)
    if statement is None or pre_save.has_listeners(model) or post_save.has_listeners(model):
        instance.save(force_insert=True, using=using)
        return instance
    instance._prepare_related_fields_for_save(operation_name="save")
    sql, fields, returning = statement
    connection = connections[using]
    params = []
    for field in fields:
        value = field.pre_save(instance, add=True)
        if hasattr(value, "resolve_expression"):
            instance.save(force_insert=True, using=using)
            return instance
        params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning is not None:
            setattr(instance, returning.attname, cursor.fetchone()[0])
    instance._state.adding = False
    instance._state.db = using
    return instance
