"""The PostgreSQL health check without a round trip (``core/postgresql/base.py``): an
idle, unharmed connection is usable at no cost; anything on its socket, or a
transaction, falls back to Django's ``SELECT 1``; a terminated backend is found."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

from core.postgresql.base import DatabaseWrapper, socket_idle
from tests.markers import on_postgresql

pytestmark = [on_postgresql("the backend is PostgreSQL's"), pytest.mark.django_db]


@pytest.fixture
def wrapper() -> Iterator[DatabaseWrapper]:
    """A connection of its own (the test's own one sits inside the test's transaction)."""
    fresh = connections.create_connection("default")
    assert isinstance(fresh, DatabaseWrapper)
    fresh.ensure_connection()
    yield fresh
    fresh.close()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each fallback to Django's ``SELECT 1`` check, by the backend pid it ran on."""
    calls: list[int] = []
    stock = django_postgresql.DatabaseWrapper.is_usable

    def counted(self: DatabaseWrapper) -> bool:
        calls.append(self.connection.info.backend_pid)
        return stock(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def _until_readable(wrapper: DatabaseWrapper) -> None:
    deadline = time.monotonic() + 5
    while socket_idle(wrapper.connection.fileno()):
        assert time.monotonic() < deadline, "the server sent nothing"
        time.sleep(0.01)


def test_the_tests_run_on_this_backend() -> None:
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_connection_is_usable_without_a_round_trip(wrapper, round_trips) -> None:
    assert [wrapper.is_usable() for _ in range(3)] == [True, True, True]
    assert round_trips == []


def test_a_terminated_backend_is_found_and_replaced(wrapper, round_trips) -> None:
    pid = wrapper.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    _until_readable(wrapper)
    assert wrapper.is_usable() is False
    assert round_trips == [pid]
    # What Django does before a request's first query: close it, then connect afresh.
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()
    assert wrapper.connection is None
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != pid


def test_something_waiting_on_the_socket_falls_back_to_the_round_trip(wrapper, round_trips) -> None:
    wrapper.connection.autocommit = True
    wrapper.connection.execute("LISTEN health_check_test")
    # A notification is delivered when its sender commits, and the test's own
    # connection is inside the test's transaction: send it from a third one.
    sender = connections.create_connection("default")
    with sender.cursor() as cursor:
        cursor.execute("SELECT pg_notify('health_check_test', 'x')")
    sender.close()
    _until_readable(wrapper)
    assert wrapper.is_usable() is True
    assert round_trips == [wrapper.connection.info.backend_pid]


def test_a_connection_inside_a_transaction_asks_the_server(wrapper, round_trips) -> None:
    wrapper.connection.autocommit = False
    wrapper.connection.execute("SELECT 1")  # psycopg opened a transaction
    assert wrapper.is_usable() is True
    assert round_trips == [wrapper.connection.info.backend_pid]
    wrapper.connection.rollback()


def test_a_closed_connection_is_not_usable(wrapper, round_trips) -> None:
    wrapper.connection.close()
    assert wrapper.is_usable() is False
    assert round_trips == []
