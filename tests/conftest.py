from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.worker import WorkerProcess, running_worker


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[WorkerProcess]:
    """A real Celery worker process on every queue, against this test's database."""
    with running_worker() as worker:
        yield worker
