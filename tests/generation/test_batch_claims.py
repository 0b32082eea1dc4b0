"""Batching on the database side: which queued jobs a worker takes into its batch, the
locks that keep two workers off the same job, and the batch's lease renewals."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from django.db import connection

from generation.attempts import (
    Attempt,
    attempt_claim,
    attempts_claim_compatible,
    attempts_renew,
)
from generation.models import GenerationJob, JobStatus
from generation.services import GenerationRequest, generation_cancel, generation_submit
from tests.faults.harness import web_process_broker
from tests.generation.conftest import make_adult, subscribe
from tests.markers import on_postgresql

SMALL: dict[str, Any] = {"prompt": "a lighthouse at dawn", "width": 64, "height": 64, "steps": 4}
CLOSED_BROKER = "redis://127.0.0.1:6409/0"  # nothing listens there


# The prompt classifiers run in the request here: these jobs go straight to the GPU
# queue, as they do after the deep check (tests/moderation_service/test_deep_check.py).
pytestmark = pytest.mark.usefixtures("classifier_in_request")


def submit(user: Any, **changes: Any) -> GenerationJob:
    return generation_submit(user=user, request=GenerationRequest(**{**SMALL, **changes}))


def claimed(job: GenerationJob, worker: str = "w") -> tuple[GenerationJob, Attempt]:
    attempt = attempt_claim(job_id=str(job.pk), worker=worker)
    assert attempt is not None
    job.refresh_from_db()
    return job, attempt


def row(job: GenerationJob) -> tuple[Any, ...]:
    job.refresh_from_db()
    return (job.status, job.attempts, job.attempt_token, job.worker)


@pytest.mark.django_db
def test_compatible_jobs_are_taken_pro_first_then_in_queue_order_within_the_image_budget() -> None:
    premium, pro = make_adult(), make_adult()
    subscribe(premium, max_images=4)
    subscribe(pro, "pro")
    lead = submit(premium, seed=1)
    early = submit(premium, seed=2, prompt="a red barn", negative_prompt="fog")
    other_steps = submit(premium, steps=6)
    other_size = submit(premium, width=128)
    other_guidance = submit(premium, guidance_scale=5.0)
    two_images = submit(premium, num_images=2)
    waiting = submit(premium)
    GenerationJob.objects.filter(pk=waiting.pk).update(awaiting_check=True)
    late_pro = submit(pro, seed=3)
    lead, lead_attempt = claimed(lead, "gpu-1")
    left_alone = [other_steps, other_size, other_guidance, two_images, waiting]
    before = [row(job) for job in left_alone]

    taken = attempts_claim_compatible(lead=lead, worker="gpu-1", max_images=4)

    # Budget 4 images: the lead's one, then the pro job (later, but pro), then the
    # earlier premium job; the two-image job no longer fits.
    assert [a.job_id for a in taken] == [str(late_pro.pk), str(early.pk)]
    for attempt, job in zip(taken, [late_pro, early], strict=True):
        assert row(job) == (JobStatus.RUNNING, 1, attempt.token, "gpu-1")
        assert attempt.number == 1
        assert job.lease_expires_at is not None and job.started_at is not None
    assert len({lead_attempt.token, *(a.token for a in taken)}) == 3
    assert [row(job) for job in left_alone] == before
    # Their own queue messages now find them claimed: no-ops that change nothing.
    for job in (late_pro, early):
        snapshot = row(job)
        assert attempt_claim(job_id=str(job.pk), worker="gpu-2") is None
        assert row(job) == snapshot


@pytest.mark.django_db
def test_the_budget_counts_images_and_a_batch_size_of_one_takes_nothing() -> None:
    user = make_adult()
    subscribe(user, max_images=4)
    lead = submit(user, num_images=2)
    three = submit(user, num_images=3)
    two = submit(user, num_images=2)
    one = submit(user)
    lead, _ = claimed(lead)
    assert attempts_claim_compatible(lead=lead, worker="w", max_images=1) == []
    assert attempts_claim_compatible(lead=lead, worker="w", max_images=2) == []
    assert [row(job)[0] for job in (three, two, one)] == [JobStatus.QUEUED] * 3
    # 2 left after the lead: the three-image job is skipped, the two-image one taken.
    taken = attempts_claim_compatible(lead=lead, worker="w", max_images=4)
    assert [a.job_id for a in taken] == [str(two.pk)]
    assert [row(job)[0] for job in (three, one)] == [JobStatus.QUEUED] * 2


@pytest.mark.django_db
def test_a_job_with_a_cancel_pending_or_no_attempts_left_is_not_batched() -> None:
    user = make_adult()
    subscribe(user)
    lead = submit(user)
    canceling = submit(user)
    spent = submit(user)
    GenerationJob.objects.filter(pk=canceling.pk).update(cancel_requested=True)
    GenerationJob.objects.filter(pk=spent.pk).update(attempts=3, max_attempts=3)
    lead, _ = claimed(lead)
    assert attempts_claim_compatible(lead=lead, worker="w", max_images=4) == []
    assert row(canceling)[:2] == (JobStatus.QUEUED, 0)
    assert row(spent)[:2] == (JobStatus.QUEUED, 3)


@pytest.mark.django_db(transaction=True)
@on_postgresql("FOR UPDATE SKIP LOCKED")
def test_a_job_another_worker_is_claiming_is_skipped_without_waiting() -> None:
    """Two workers building batches at once: the rows one of them locked are skipped by
    the other (SKIP LOCKED), which neither waits nor takes them."""
    user = make_adult()
    subscribe(user)
    with web_process_broker(CLOSED_BROKER):
        lead, locked, free = submit(user), submit(user), submit(user)
    lead, _ = claimed(lead)
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        table = GenerationJob._meta.db_table
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [locked.pk])  # noqa: S608
        answer: list[list[Attempt]] = []

        def second_worker() -> None:
            try:
                answer.append(attempts_claim_compatible(lead=lead, worker="w", max_images=4))
            finally:
                connection.close()  # this thread's own connection

        thread = threading.Thread(target=second_worker)
        thread.start()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the claim waited on a row another worker holds"
        other.rollback()
    assert [a.job_id for a in answer[0]] == [str(free.pk)]
    assert row(locked)[:2] == (JobStatus.QUEUED, 0)
    assert row(free)[:2] == (JobStatus.RUNNING, 1)


@pytest.mark.django_db
def test_one_renewal_keeps_every_live_lease_and_reports_cancels_and_lost_jobs() -> None:
    user = make_adult()
    subscribe(user)
    jobs = [submit(user, seed=n) for n in range(3)]
    lead, lead_attempt = claimed(jobs[0])
    attempts = [lead_attempt, *attempts_claim_compatible(lead=lead, worker="w", max_images=4)]
    assert len(attempts) == 3
    generation_cancel(user=user, job_id=jobs[1].pk)
    GenerationJob.objects.filter(pk=jobs[2].pk).update(attempt_token=None)  # taken away
    lost_lease = GenerationJob.objects.get(pk=jobs[2].pk).lease_expires_at
    assert lost_lease is not None

    renewal = attempts_renew(attempts=attempts, step=2, total=4)

    assert renewal.holding == {attempts[0], attempts[1]}
    assert renewal.cancel_asked == {attempts[1]}
    for job in jobs:
        job.refresh_from_db()
    progress = [(job.progress_step, job.progress_total) for job in jobs]
    assert progress == [(2, 4), (2, 4), (0, 4)]  # the lost job's row is left alone
    assert jobs[2].lease_expires_at == lost_lease
    assert jobs[0].lease_expires_at is not None and jobs[0].lease_expires_at > lost_lease
