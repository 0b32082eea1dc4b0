"""The load test's smoke run: ``loadtest.run`` with a few users for a few seconds, its
books reconciling exactly (the full run with faults is ``make loadtest``).

Behind the ``loadtest`` marker, on when ``IMAGEGATE_LOADTEST_SMOKE=1`` (``.ci/run``
sets it): it starts Redis, gunicorn, two workers, beat and locust (about a minute).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [
    pytest.mark.loadtest,
    pytest.mark.skipif(
        os.environ.get("IMAGEGATE_LOADTEST_SMOKE") != "1",
        reason="the load test smoke run is on with IMAGEGATE_LOADTEST_SMOKE=1",
    ),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="needs PostgreSQL",
    ),
]


def _test_database_url() -> str:
    """This test's own database (migrated and seeded by pytest-django and the fixtures)."""
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.mark.django_db(transaction=True)
def test_a_short_load_run_reconciles_jobs_ledger_and_files(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "loadtest.run", "--users", "3", "--duration", "8",
        "--kill-worker-at", "-1", "--restart-redis-at", "-1", "--drain-timeout", "60",
        "--web-workers", "1", "--redis-port", "6414", "--out", str(tmp_path),
        "--lease-seconds", "120",
        "--database-url", _test_database_url(), "--reuse-database",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert summary["problems"] == []
    assert summary["jobs"] >= 3
    assert summary["jobs"] == summary["accepted_202"]
    assert summary["statuses"] == {"succeeded": summary["jobs"]}
    assert summary["images"] == summary["files"] == summary["jobs"]
    failures = {row["Name"]: int(row["Failure Count"]) for row in summary["requests"]}
    assert failures["Aggregated"] == 0
