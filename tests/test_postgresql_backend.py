"""The backend's setting of psycopg's query-text cache (``core/postgresql/base.py``): a
statement of many parameters, like the submit's one statement, is parsed once per
process, not on every call."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg import _queries

from core.postgresql.base import PSYCOPG_QUERY_CACHE
from tests.markers import on_postgresql

pytestmark = [on_postgresql("the setting is the PostgreSQL backend's"), pytest.mark.django_db]


def test_psycopg_still_has_the_bounds_the_backend_raises() -> None:
    assert (_queries.MAX_CACHED_STATEMENT_LENGTH, _queries.MAX_CACHED_STATEMENT_PARAMS) == (
        PSYCOPG_QUERY_CACHE
    )
    assert PSYCOPG_QUERY_CACHE[1] > 50  # psycopg's own bound, which the submit exceeds


def test_a_statement_of_ninety_parameters_is_parsed_once() -> None:
    sql = "SELECT " + ", ".join(f"%s::int + {n}" for n in range(90))
    with connection.cursor() as cursor:
        cursor.execute(sql, list(range(90)))
        first = cursor.fetchone()
        before = _queries._query2pg.cache_info()
        cursor.execute(sql, [n * 2 for n in range(90)])
        second = cursor.fetchone()
    after = _queries._query2pg.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    assert list(first) == [2 * n for n in range(90)]
    assert list(second) == [3 * n for n in range(90)]
