"""The batching GPU task run in this process (the worker's code path, without a worker
process), where a test can break the pipeline or take a job away at a chosen step, and
count the SQL statements the batch costs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generation.engine import backend
from generation.models import GenerationJob, JobStatus
from generation.services import GenerationRequest, generation_submit
from generation.tasks import run_generation
from tests.faults.harness import assert_books_balance, settled_kinds, web_process_broker
from tests.generation.conftest import make_adult, subscribe

# The prompt classifiers run in the request here: these jobs go straight to the GPU
# queue, as they do after the deep check (tests/moderation_service/test_deep_check.py).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("classifier_in_request"),
]

SMALL: dict[str, Any] = {"prompt": "a lighthouse at dawn", "width": 64, "height": 64, "steps": 4}
CLOSED_BROKER = "redis://127.0.0.1:6409/0"  # nothing listens there


@pytest.fixture
def queued(tiny_model_dir: Any, settings: Any) -> Callable[[int], list[GenerationJob]]:
    settings.IMAGEGATE_GPU_BATCH_SIZE = 4
    user = make_adult()
    subscribe(user)

    def make(count: int) -> list[GenerationJob]:
        with web_process_broker(CLOSED_BROKER):  # submit's publish is logged, not sent
            return [
                generation_submit(user=user, request=GenerationRequest(**SMALL, seed=n))
                for n in range(count)
            ]

    return make


def fresh(jobs: list[GenerationJob]) -> list[GenerationJob]:
    for job in jobs:
        job.refresh_from_db()
    return jobs


def test_a_pipeline_error_requeues_or_fails_every_job_of_the_batch(
    queued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead, again, spent = queued(3)
    GenerationJob.objects.filter(pk=spent.pk).update(attempts=2)  # its last attempt now
    calls: list[int] = []

    def broken(cache: Any, spec: Any, items: list[Any], **shape: Any) -> Any:
        calls.append(len(items))
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(backend, "generate_batch", broken)
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        run_generation, "apply_async", lambda args, **options: sent.append((args, options))
    )
    with pytest.raises(Retry):  # the lead is re-sent by retrying its own task
        run_generation(str(lead.pk))
    assert calls == [3]
    lead, again, spent = fresh([lead, again, spent])
    for job in (lead, again):
        assert (job.status, job.attempts, job.attempt_token) == (JobStatus.QUEUED, 1, None)
        assert job.error == "RuntimeError: CUDA error: an illegal memory access was encountered"
        assert job.dispatched_at is not None
        assert settled_kinds(job) == ["reserve"]
    assert (spent.status, spent.attempts) == (JobStatus.FAILED, 3)
    assert settled_kinds(spent) == ["release", "reserve"]
    # The re-queued extra gets a message of its own (its first one may be gone already).
    assert sent == [((str(again.pk),), {"priority": again.queue_priority, "countdown": 5})]
    assert_books_balance(finished=False)


def test_a_job_taken_away_mid_batch_is_dropped_and_the_others_finish(
    queued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = queued(3)
    real = backend.generate_batch
    foreign = uuid.uuid4()

    def sweeper_takes_the_last_job(cache: Any, spec: Any, items: list[Any], **kw: Any) -> Any:
        on_step = kw.pop("on_step")

        def step(index: int, total: int) -> None:
            if index == 2:  # another worker holds it now (the sweeper re-queued it)
                GenerationJob.objects.filter(pk=jobs[2].pk).update(attempt_token=foreign)
            on_step(index, total)

        return real(cache, spec, items, on_step=step, **kw)

    monkeypatch.setattr(backend, "generate_batch", sweeper_takes_the_last_job)
    assert run_generation(str(jobs[0].pk)) == JobStatus.SUCCEEDED
    first, second, taken = fresh(jobs)
    for job in (first, second):
        assert job.status == JobStatus.SUCCEEDED and job.images.count() == 1
        assert settled_kinds(job) == ["commit", "reserve"]
    # The batch wrote nothing more to the job it lost: not its steps, images or credits.
    assert (taken.status, taken.attempt_token, taken.progress_step) == (
        JobStatus.RUNNING,
        foreign,
        1,
    )
    assert taken.images.count() == 0
    assert settled_kinds(taken) == ["reserve"]


def test_every_step_costs_one_lease_update_for_the_whole_batch(queued: Any) -> None:
    """Counted, not timed: a step's renewal is one UPDATE and one SELECT whatever the
    batch's size, so the per-job statement count falls as the batch grows."""
    counts: dict[int, tuple[int, int]] = {}
    for size in (1, 3):
        jobs = queued(size)
        with CaptureQueriesContext(connection) as queries:
            assert run_generation(str(jobs[0].pk)) == JobStatus.SUCCEEDED
        assert {job.status for job in fresh(jobs)} == {JobStatus.SUCCEEDED}
        sets = [
            q["sql"].split(" WHERE ")[0]
            for q in queries.captured_queries
            if q["sql"].startswith("UPDATE")
        ]
        # Renewals record the step and keep the token (claims and settlements set it):
        # step 0 (a cancel asked during the model load), then steps 1..4.
        renewals = [s for s in sets if '"progress_step" =' in s and '"attempt_token"' not in s]
        counts[size] = (len(renewals), len(queries.captured_queries))
    assert counts[1][0] == counts[3][0] == 1 + SMALL["steps"]
    assert counts[3][1] / 3 < counts[1][1]


def test_an_error_after_generation_costs_only_that_job_an_attempt(
    queued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moderation import services as moderation_services

    jobs = queued(3)
    real = moderation_services.output_moderate

    def flaky(*, job: GenerationJob, images: list[bytes]) -> Any:
        if job.pk == jobs[1].pk:
            raise ConnectionError("classifier host unreachable")
        return real(job=job, images=images)

    monkeypatch.setattr(moderation_services, "output_moderate", flaky)
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        run_generation, "apply_async", lambda args, **options: sent.append((args, options))
    )
    assert run_generation(str(jobs[0].pk)) == JobStatus.SUCCEEDED
    first, broken, last = fresh(jobs)
    for job in (first, last):
        assert job.status == JobStatus.SUCCEEDED and job.images.count() == 1
        assert settled_kinds(job) == ["commit", "reserve"]
    assert (broken.status, broken.attempts, broken.images.count()) == (JobStatus.QUEUED, 1, 0)
    assert broken.error == "ConnectionError: classifier host unreachable"
    assert settled_kinds(broken) == ["reserve"]
    assert sent == [((str(broken.pk),), {"priority": broken.queue_priority, "countdown": 5})]


def test_a_batch_whose_jobs_are_all_canceled_stops_between_steps(
    queued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generation.services import generation_cancel

    jobs = queued(2)
    real = backend.generate_batch
    steps_run: list[int] = []

    def users_cancel_at_step_two(cache: Any, spec: Any, items: list[Any], **kw: Any) -> Any:
        on_step = kw.pop("on_step")

        def step(index: int, total: int) -> None:
            steps_run.append(index)
            if index == 2:
                for job in jobs:
                    generation_cancel(user=job.user, job_id=job.pk)
            on_step(index, total)

        return real(cache, spec, items, on_step=step, **kw)

    monkeypatch.setattr(backend, "generate_batch", users_cancel_at_step_two)
    assert run_generation(str(jobs[0].pk)) == JobStatus.CANCELED
    assert steps_run == [1, 2]  # the pipeline stopped: steps 3 and 4 never ran
    for job in fresh(jobs):
        assert (job.status, job.images.count(), job.credits_charged) == (JobStatus.CANCELED, 0, 0)
        assert settled_kinds(job) == ["release", "reserve"]
    assert_books_balance()
