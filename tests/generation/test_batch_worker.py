"""Batching through a real Celery worker process running the tiny test model: compatible
queued jobs share one pipeline call, each keeping its own seed, cancel and settlement."""

from __future__ import annotations

from typing import Any

import pytest

from generation.models import GenerationJob, JobStatus
from tests.faults.harness import assert_books_balance, settled_kinds, wait_until
from tests.generation.conftest import balance, make_adult, subscribe
from tests.markers import on_postgresql
from tests.worker import running_worker

# The prompt classifiers run in the request here: these jobs go straight to the GPU
# queue, as they do after the deep check (tests/moderation_service/test_deep_check.py).
pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("classifier_in_request"),
]

REQUEST: dict[str, Any] = {
    "prompt": "a watercolour lighthouse at dawn",
    "width": 64,
    "height": 64,
    "steps": 4,
}
FINAL = {"succeeded", "failed", "blocked", "canceled", "held_for_review"}


def post(client: Any, **changes: Any) -> str:
    response = client.post("/api/v1/generations", {**REQUEST, **changes}, format="json")
    assert response.status_code == 202, response.json()
    return str(response.json()["id"])


def finished(job_ids: list[str], timeout: float = 240) -> list[GenerationJob]:
    def done() -> bool:
        return GenerationJob.objects.filter(pk__in=job_ids, status__in=FINAL).count() == len(
            job_ids
        )

    wait_until(done, timeout=timeout, every=0.25, what="the jobs to finish")
    jobs = {str(job.pk): job for job in GenerationJob.objects.filter(pk__in=job_ids)}
    return [jobs[pk] for pk in job_ids]


def batch_of(job: GenerationJob) -> dict[str, Any]:
    return dict(job.timings["batch"])


def test_compatible_queued_jobs_share_one_pipeline_call_and_are_charged_once_each(
    tiny_model_dir, api_for
) -> None:
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    ids = [post(client, seed=11), post(client, seed=12, prompt="a red barn"), post(client, seed=13)]
    odd = post(client, steps=5, seed=14)  # another step count: never in their batch
    with running_worker(extra_env={"IMAGEGATE_GPU_BATCH_SIZE": "4"}) as worker:
        jobs = finished([*ids, odd])
        # The batched jobs' own messages arrive later and find them taken: no-ops.
        for job_id in ids[1:]:
            worker.wait_for_log(f"job {job_id} not claimable")
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 4, [j.error for j in jobs]
    batches = [batch_of(job) for job in jobs]
    assert len({b["id"] for b in batches[:3]}) == 1
    assert batches[0]["jobs"] == 3 and batches[0]["images"] == 3
    assert batches[3]["jobs"] == 1 and batches[3]["id"] != batches[0]["id"]
    assert worker.output().count(": jobs [") == 2  # two pipeline calls, logged by the task
    assert all(job.attempts == 1 and job.images.count() == 1 for job in jobs)
    assert [job.progress_step for job in jobs] == [4, 4, 4, 5]
    # Each job its own seed: three different renders.
    assert len({job.images.get().render_sha256 for job in jobs[:3]}) == 3
    for job in jobs:
        assert job.credits_charged == job.credits_reserved > 0
        assert settled_kinds(job) == ["commit", "reserve"]
    assert balance(user) == (100 - sum(job.credits_charged for job in jobs), 0)
    assert_books_balance()


@on_postgresql("claims with FOR UPDATE SKIP LOCKED")
def test_a_pro_job_is_taken_before_an_earlier_premium_job(tiny_model_dir, api_for) -> None:
    premium, pro = make_adult(), make_adult()
    subscribe(premium)
    subscribe(pro, "pro")
    premium_client, pro_client = api_for(premium), api_for(pro)
    early_premium = post(premium_client, steps=5)  # first in the queue, nothing to batch with
    first_pro = post(pro_client)
    later_premium = post(premium_client)
    later_pro = post(pro_client, seed=3)
    order = [early_premium, first_pro, later_premium, later_pro]
    with running_worker(extra_env={"IMAGEGATE_GPU_BATCH_SIZE": "2"}):
        jobs = dict(zip(order, finished(order), strict=True))
    assert {job.status for job in jobs.values()} == {JobStatus.SUCCEEDED}
    # Two pro jobs first, batched together though a compatible premium job queued
    # between them; then the premium jobs in queue order, each alone.
    pro_batch = batch_of(jobs[first_pro])
    assert batch_of(jobs[later_pro])["id"] == pro_batch["id"]
    assert pro_batch["jobs"] == 2
    assert batch_of(jobs[early_premium])["jobs"] == 1
    assert batch_of(jobs[later_premium])["jobs"] == 1
    started = sorted(jobs, key=lambda pk: jobs[pk].started_at)  # type: ignore[arg-type,return-value]
    assert started[:2] in ([first_pro, later_pro], [later_pro, first_pro])
    assert started[2:] == [early_premium, later_premium]
    assert_books_balance()


def test_canceling_one_job_of_a_running_batch_leaves_the_others_running(
    tiny_model_dir, api_for
) -> None:
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    ids = [post(client, steps=300, seed=seed) for seed in (1, 2, 3)]
    with running_worker(extra_env={"IMAGEGATE_GPU_BATCH_SIZE": "4"}):

        def generating() -> bool:
            return (
                GenerationJob.objects.filter(
                    pk__in=ids, status=JobStatus.RUNNING, progress_step__gte=2
                ).count()
                == 3
            )

        wait_until(generating, every=0.05, what="the batch to generate")
        response = client.post(f"/api/v1/generations/{ids[1]}/cancel")
        assert response.status_code == 200
        first, canceled, last = finished(ids, timeout=400)
    assert canceled.status == JobStatus.CANCELED
    assert canceled.progress_step < 300
    assert canceled.images.count() == 0
    assert canceled.credits_charged == 0
    assert settled_kinds(canceled) == ["release", "reserve"]
    for job in (first, last):
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.progress_step == 300
        assert job.images.count() == 1
        assert settled_kinds(job) == ["commit", "reserve"]
    assert len({batch_of(job)["id"] for job in (first, canceled, last)}) == 1
    assert batch_of(first)["jobs"] == 3
    assert balance(user) == (100 - first.credits_charged - last.credits_charged, 0)
    assert_books_balance()
