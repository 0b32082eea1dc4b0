"""Fault tests for GPU workers: paused past the lease (fencing), connections cut under
the task. Real Celery worker processes, real PostgreSQL backends terminated."""

from __future__ import annotations

import time

import pytest

from generation.models import GenerationJob, JobStatus
from generation.tasks import sweep_stuck_jobs
from tests.faults.harness import assert_books_balance, settled_kinds, terminate_backends, wait_until
from tests.generation.conftest import balance, make_adult, subscribe
from tests.worker import running_worker

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LONG = {
    "prompt": "a watercolour lighthouse at dawn",
    "width": 256,
    "height": 256,
    "steps": 300,
    "seed": 7,
}
FINAL = {"succeeded", "failed", "blocked", "canceled", "held_for_review"}


def job_in(job_id: str, statuses: set[str]) -> GenerationJob | None:
    return GenerationJob.objects.filter(pk=job_id, status__in=statuses).first()


def test_a_paused_worker_is_fenced_out_and_a_canceled_job_is_never_charged(
    tiny_model_dir, api_for
) -> None:
    """F2: worker A pauses past its lease; the sweeper hands the job to worker B; the user
    cancels; A resumes. A's writes are refused and it stops; the job is canceled, its
    credits released once, never committed."""
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    env = {"GENERATION_LEASE_SECONDS": "3"}
    with (
        running_worker(queues="gpu", extra_env=env) as first,
        running_worker(queues="gpu", extra_env=env) as second,
    ):
        job_id = client.post("/api/v1/generations", LONG, format="json").json()["id"]
        cost = GenerationJob.objects.get(pk=job_id).credits_reserved
        leases_during_load: set[object] = set()

        def generating() -> bool:
            job = GenerationJob.objects.get(pk=job_id)
            if job.status == JobStatus.RUNNING and job.progress_step == 0:
                leases_during_load.add(job.lease_expires_at)
            return job.status == JobStatus.RUNNING and job.progress_step >= 2

        wait_until(generating, every=0.05, what="the first attempt to generate")
        running = GenerationJob.objects.get(pk=job_id)
        holder, other = (first, second) if f"{first.node}@" in running.worker else (second, first)
        assert f"{holder.node}@" in running.worker
        first_token = running.attempt_token
        holder.pause()
        try:
            time.sleep(3.5)  # the paused worker's lease runs out
            assert sweep_stuck_jobs()["requeued"] == 1
            taken = wait_until(
                lambda: GenerationJob.objects.filter(
                    pk=job_id, status=JobStatus.RUNNING, attempts=2, progress_step__gte=1
                ).first(),
                what="the second worker to take the job",
            )
            assert taken.attempt_token not in (None, first_token)
            assert f"{other.node}@" in taken.worker
            assert client.post(f"/api/v1/generations/{job_id}/cancel").status_code == 200
            job = wait_until(lambda: job_in(job_id, FINAL), what="the cancel")
        finally:
            holder.resume()
        holder.wait_for_log("lost its job;", timeout=60)  # "stopping", or "dropped from its batch"
        time.sleep(1)  # anything the resumed worker would still write, it writes now
    job = GenerationJob.objects.get(pk=job_id)
    assert job.status == JobStatus.CANCELED
    assert job.credits_charged == 0
    assert job.images.count() == 0
    assert settled_kinds(job) == ["release", "reserve"]
    assert balance(user) == (100, 0)
    assert cost > 0
    # The first attempt's lease was renewed while the model loaded (no steps yet).
    assert len(leases_during_load) >= 2, leases_during_load
    assert_books_balance()


def test_connections_cut_under_the_gpu_task_cost_no_attempt(tiny_model_dir, api_for) -> None:
    """F7: PostgreSQL terminates the worker's backends mid-job, twice. The worker closes
    the broken connection and carries on with a fresh one: the job succeeds on its
    first attempt and is charged once."""
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    with running_worker(queues="gpu") as worker:
        request = {**LONG, "steps": 120}
        job_id = client.post("/api/v1/generations", request, format="json").json()["id"]
        for threshold in (3, 30):
            wait_until(
                lambda t=threshold: GenerationJob.objects.filter(
                    pk=job_id, status=JobStatus.RUNNING, progress_step__gte=t
                ).exists(),
                every=0.05,
                what=f"step {threshold}",
            )
            assert terminate_backends() >= 1
        job = wait_until(lambda: job_in(job_id, FINAL), timeout=300, what="the job to finish")
        assert "retrying on a fresh one" in worker.output()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 1
    assert job.images.count() == 1
    assert settled_kinds(job) == ["commit", "reserve"]
    assert balance(user) == (100 - job.credits_reserved, 0)
    assert_books_balance()
