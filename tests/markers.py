"""Markers shared by test modules."""

from __future__ import annotations

import pytest
from django.db import connection


def on_postgresql(why: str) -> pytest.MarkDecorator:
    """Skip on another database (plain `make test` runs on SQLite; CI on PostgreSQL)."""
    return pytest.mark.skipif(connection.vendor != "postgresql", reason=f"PostgreSQL: {why}")
