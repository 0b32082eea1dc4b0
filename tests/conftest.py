from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps as django_apps

from tests.worker import WorkerProcess, running_worker

# Data migrations that seed reference rows (plans, groups, jurisdictions, policy v1).
# Transactional tests flush the database when they end, so these are re-run (they are
# idempotent) at the start of every transactional test.
REFERENCE_DATA = [
    ("accounts.migrations.0003_seed_jurisdictions", "seed"),
    ("billing.migrations.0002_seed_plans", "seed"),
    ("billing.migrations.0003_billing_admins_group", "grant"),
    ("accountability.migrations.0003_moderator_groups", "create_groups"),
    ("moderation.migrations.0002_policy_version_1", "create_version_1"),
]


def reseed_reference_data() -> None:
    for module_name, function in REFERENCE_DATA:
        getattr(importlib.import_module(module_name), function)(django_apps, None)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    ):
        request.getfixturevalue("transactional_db")
        reseed_reference_data()


@pytest.fixture(autouse=True)
def _fresh_plan_ranks() -> None:
    """Plan ranks are kept per process (billing/plans.py); a rank one test saved and its
    rollback undid must not reach the next test."""
    from billing.plans import plan_rank_cache_clear

    plan_rank_cache_clear()


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[WorkerProcess]:
    """A real Celery worker process on every queue, against this test's database."""
    with running_worker() as worker:
        yield worker


@pytest.fixture
def classifier_in_request(settings: Any) -> None:
    """The text classifiers run in the request (``MODERATION_CLASSIFIER_STAGE="request"``):
    for tests whose point is the synchronous answer (a 422 for a classifier block)."""
    settings.MODERATION_CLASSIFIER_STAGE = "request"
