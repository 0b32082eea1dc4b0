"""A GPU worker SIGKILLed in the middle of a batch: every job of the batch is recovered
by the sweeper once its lease runs out, finishes once and is charged once. Real worker
processes; no Redis of its own (the test run's broker), so no fault-suite port."""

from __future__ import annotations

import pytest
from django.utils import timezone

from generation.models import GenerationJob, JobStatus
from generation.tasks import sweep_stuck_jobs
from tests.faults.harness import assert_books_balance, settled_kinds, wait_until
from tests.generation.conftest import balance, make_adult, subscribe
from tests.worker import running_worker

# The prompt classifiers run in the request here: these jobs go straight to the GPU
# queue, as they do after the deep check (tests/moderation_service/test_deep_check.py).
pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("classifier_in_request"),
]

LONG = {"prompt": "a watercolour lighthouse at dawn", "width": 64, "height": 64, "steps": 300}
FINAL = {"succeeded", "failed", "blocked", "canceled", "held_for_review"}


def test_a_worker_killed_mid_batch_loses_no_job_and_charges_each_once(
    tiny_model_dir, api_for
) -> None:
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    ids = [
        client.post("/api/v1/generations", {**LONG, "seed": seed}, format="json").json()["id"]
        for seed in (1, 2, 3)
    ]
    costs = sum(GenerationJob.objects.filter(pk__in=ids).values_list("credits_reserved", flat=True))
    env = {"GENERATION_LEASE_SECONDS": "2", "IMAGEGATE_GPU_BATCH_SIZE": "4"}
    running = GenerationJob.objects.filter(pk__in=ids, status=JobStatus.RUNNING)
    with running_worker(queues="gpu", extra_env=env) as worker:
        wait_until(
            lambda: running.filter(progress_step__gte=2).count() == 3,
            every=0.05,
            what="the batch of three to generate",
        )
        tokens = dict(running.values_list("pk", "attempt_token"))
        worker.kill_hard()
    assert len(set(tokens.values())) == 3  # three attempts, each with its own token
    assert balance(user) == (100 - costs, costs)

    def leases_expired() -> bool:
        return not running.filter(lease_expires_at__gte=timezone.now()).exists()

    wait_until(leases_expired, timeout=30, every=0.2, what="the dead worker's leases to expire")
    assert sweep_stuck_jobs() == {
        "requeued": 3, "failed": 0, "canceled": 0, "resent": 0, "rechecked": 0
    }  # fmt: skip
    assert GenerationJob.objects.filter(pk__in=ids, status=JobStatus.QUEUED).count() == 3
    with running_worker(queues="gpu", extra_env=env):

        def all_finished() -> bool:
            return GenerationJob.objects.filter(pk__in=ids, status__in=FINAL).count() == 3

        wait_until(all_finished, timeout=400, every=0.25, what="the re-queued jobs to finish")
    jobs = list(GenerationJob.objects.filter(pk__in=ids))
    for job in jobs:
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.attempts == 2
        assert job.images.count() == 1
        assert job.credits_charged == job.credits_reserved
        assert settled_kinds(job) == ["commit", "reserve"]
    # The second worker batched them again, all three in one pipeline call.
    assert len({job.timings["batch"]["id"] for job in jobs}) == 1
    assert balance(user) == (100 - costs, 0)
    assert_books_balance()
