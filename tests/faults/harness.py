"""Real processes to break: a Redis server of the test's own, PostgreSQL backends to
terminate, and the checks every fault test ends with (jobs, ledger, files, moderation).

Ports and names come from the environment so parallel runs never collide:
``IMAGEGATE_FAULT_REDIS_PORT`` (default 6401) is the first of the ports this suite may
use for its own Redis servers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Sum

from billing.models import CreditAccount, CreditLedgerEntry, LedgerKind
from generation.models import GeneratedImage, GenerationJob, JobStatus

FIRST_PORT = int(os.environ.get("IMAGEGATE_FAULT_REDIS_PORT", "6401"))


@dataclass
class RedisServer:
    """``redis-server`` without persistence: a restart comes back empty."""

    port: int
    process: subprocess.Popen[bytes] | None = None
    binds: tuple[str, ...] = ("127.0.0.1",)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for the fault tests"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", *self.binds, "--save", "",
             "--appendonly", "no", "--daemonize", "no",
             # Reached from the test's own network namespaces (veth addresses only).
             "--protected-mode", "no" if set(self.binds) - {"127.0.0.1"} else "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError(f"redis on {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def own_redis(offset: int = 0, binds: tuple[str, ...] = ("127.0.0.1",)) -> Iterator[RedisServer]:
    server = RedisServer(port=FIRST_PORT + offset, binds=binds)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def web_process_broker(url: str) -> Iterator[None]:
    """Point this (the web) process's Celery publisher at ``url`` for the block."""
    app = current_app
    previous = app.conf.broker_url

    def reset() -> None:
        from kombu import pools

        pools.reset()  # closes every pooled broker connection and forgets the pools
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset()


def terminate_backends(*, except_own: bool = True) -> int:
    """``pg_terminate_backend`` every other backend of THIS test database only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            if except_own
            else "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def wait_until(check: Any, *, timeout: float = 180, every: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what or check}")


def settled_kinds(job: GenerationJob) -> list[str]:
    return sorted(
        CreditLedgerEntry.objects.filter(reference=job.credit_reference).values_list(
            "kind", flat=True
        )
    )


EXPECTED_SETTLEMENT = {
    JobStatus.SUCCEEDED: ["commit", "reserve"],
    JobStatus.FAILED: ["release", "reserve"],
    JobStatus.CANCELED: ["release", "reserve"],
    JobStatus.BLOCKED: ["release", "reserve"],
    JobStatus.QUEUED: ["reserve"],
    JobStatus.RUNNING: ["reserve"],
    JobStatus.HELD_FOR_REVIEW: ["reserve"],
}


def assert_books_balance(*, finished: bool = True) -> None:
    """The checks every fault test ends with.

    - every job finished (if ``finished``) and its credits settled exactly once, as its
      state says: charged if it succeeded, released otherwise, nothing twice;
    - every account: balance + reserved = grants + adjustments − commits;
    - no image file without its row and no row without its file;
    - no job delivered without every moderation layer it needed.
    """
    from moderation.models import Layer, ModerationDecision, Stage

    for job in GenerationJob.objects.all():
        if finished:
            assert job.is_finished, f"{job.pk} is {job.status}"
        assert settled_kinds(job) == EXPECTED_SETTLEMENT[JobStatus(job.status)], (
            job.pk,
            job.status,
            settled_kinds(job),
        )
        charged = job.credits_reserved if job.status == JobStatus.SUCCEEDED else 0
        assert job.credits_charged == charged, (job.pk, job.status, job.credits_charged)
        assert job.attempt_token is None or job.status == JobStatus.RUNNING
        external = set(
            ModerationDecision.objects.filter(
                subject_id=str(job.pk), stage=Stage.PROMPT, layer=Layer.EXTERNAL
            ).values_list("decision", flat=True)
        )
        if job.status == JobStatus.SUCCEEDED:
            # Delivered: the prompt check it waited for (if any) allowed it, and the
            # output passed the image classifiers.
            assert not job.awaiting_check, job.pk
            assert external <= {"allow"}, (job.pk, external)
            assert ModerationDecision.objects.filter(
                subject_id=str(job.pk), stage=Stage.OUTPUT, decision="allow"
            ).exists(), job.pk
        elif job.status in (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.QUEUED):
            assert not job.images.exists(), (job.pk, job.status)

    for account in CreditAccount.objects.all():
        sums = {
            row["kind"]: int(row["total"] or 0)
            for row in CreditLedgerEntry.objects.filter(user_id=account.user_id)
            .values("kind")
            .annotate(total=Sum("amount"))
        }
        expected = (
            sums.get(LedgerKind.GRANT, 0)
            + sums.get(LedgerKind.ADJUSTMENT, 0)
            - sums.get(LedgerKind.COMMIT, 0)
        )
        assert account.balance + account.reserved == expected, (account.user_id, sums)

    files = set(image_files())
    rows = set(GeneratedImage.objects.values_list("storage_key", flat=True))
    assert files == rows, {"files without rows": files - rows, "rows without files": rows - files}


def image_files() -> list[str]:
    """The image files of this test's users (other tests' users are flushed)."""
    from accounts.models import User
    from generation.files import IMAGE_PREFIX, _walk

    found: list[str] = []
    for user_id in User.objects.values_list("pk", flat=True):
        folder = f"{IMAGE_PREFIX}/{user_id}"
        if default_storage.exists(folder):
            found.extend(_walk(folder))
    return found
