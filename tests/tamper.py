"""Tampering with rows the database protects, as a test of what notices it does.

django-pgtrigger's ``pgtrigger.ignore`` sends a second command in front of each statement,
which PostgreSQL refuses under server-side parameter binding (the project's setting,
``imagegate.settings.base.database_from_env``). The tests switch triggers off for their
connection instead (``session_replication_role``), as a database superuser could.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model


@contextmanager
def triggers_off(model: type[Model]) -> Iterator[None]:
    """Triggers (``model``'s append-only guards among them) off on this connection for
    the block; on another database there are none. ``model`` names what is tampered with."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
