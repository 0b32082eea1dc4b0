"""Django's PostgreSQL backend, with a health check that needs no round trip.

``CONN_HEALTH_CHECKS`` makes Django ask ``is_usable()`` before a request's first query
on a persistent connection; the stock backend answers with a ``SELECT 1``, one round trip
per request (about a tenth of a submit's wall time, docs/benchmarks.md). An idle
connection has nothing to read: the server sends nothing until asked. A server that ends
the connection (a terminated backend, a restart, a pooler or proxy closing it) first
sends its error or closes the socket, so the socket turns readable. So: a socket with
nothing to read is usable; anything else (data waiting, an error polling, a connection
psycopg already knows is closed or broken, one inside a transaction) falls back to
Django's ``SELECT 1``, which decides as before. A link cut silently (no FIN, no RST)
passes both checks alike: the first query then waits for the socket's timeouts.

And psycopg's cache of parsed query texts (placeholders split out, one entry per text,
128 in all) takes only statements of at most 4,096 bytes and 50 parameters: longer ones
are parsed again on every call. The submit's one statement (docs/architecture.md) has
about 90 parameters, and parsing it again cost ~0.1 ms of a submit's CPU. The project's
statements are a fixed set of texts, so the bounds are raised (``PSYCOPG_QUERY_CACHE``;
``tests/test_postgresql_backend.py`` fails if psycopg drops the setting).
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import _queries
from psycopg.pq import TransactionStatus

# (bytes of query text, parameters) up to which psycopg keeps a statement's parsed form.
PSYCOPG_QUERY_CACHE = (16_384, 256)
_queries.MAX_CACHED_STATEMENT_LENGTH, _queries.MAX_CACHED_STATEMENT_PARAMS = PSYCOPG_QUERY_CACHE


def socket_idle(fileno: int) -> bool:
    """True when nothing (data, end of file, error) waits on the socket ``fileno``."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    try:
        return not poller.poll(0)
    except OSError:
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())
        try:
            fileno = connection.fileno()
        except Exception:  # psycopg raises its own error on a closed connection
            return False
        return socket_idle(fileno) or bool(super().is_usable())
