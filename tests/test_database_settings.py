"""The database settings of each settings module, and prepared statements on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.environments import production_variables
from tests.markers import on_postgresql

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = production_variables()
KEYS = ("ENGINE", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "ATOMIC_REQUESTS", "OPTIONS")


def _database(**env: str) -> dict:
    """``DATABASES["default"]`` as a fresh process under ``env`` sees it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{k: settings.DATABASES['default'][k] for k in {KEYS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_keeps_health_checks_and_prepares_statements() -> None:
    assert _database(**PRODUCTION_ENV) == {
        # Django's backend, with a health check that needs no round trip when idle.
        "ENGINE": "core.postgresql",
        "CONN_MAX_AGE": 60,
        # A persistent connection cut while idle is replaced before a request uses it
        # (docs/reliability.md, F8): production used to drop this setting.
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5},
    }


def test_the_database_variables_apply_in_production() -> None:
    database = _database(
        **PRODUCTION_ENV,
        DATABASE_CONN_MAX_AGE="0",
        DATABASE_CONN_HEALTH_CHECKS="false",
        DATABASE_PREPARE_THRESHOLD="",
        DATABASE_SERVER_SIDE_BINDING="false",
    )
    assert database == {
        "ENGINE": "core.postgresql",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "ATOMIC_REQUESTS": False,
        "OPTIONS": {"server_side_binding": False, "prepare_threshold": None},
    }


def test_development_defaults_on_sqlite() -> None:
    assert _database(DJANGO_SETTINGS_MODULE="imagegate.settings.base") == {
        "ENGINE": "django.db.backends.sqlite3",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }


@on_postgresql("pg_prepared_statements")
@pytest.mark.django_db
def test_a_repeated_statement_is_prepared_once_per_connection() -> None:
    query = "SELECT count(*) FROM accounts_user WHERE email = %s"
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute(query, ["nobody@example.com"])
            assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM accounts_user WHERE email = $1%"],
        )
        assert cursor.fetchone() == (1,)
