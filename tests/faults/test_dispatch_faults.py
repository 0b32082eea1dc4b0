"""Fault tests for the hand-offs across the broker: a Redis of the test's own stopped
(publish fails after the commit) and restarted empty (queued messages lost), and a
moderation queue nobody consumes while a job waits for its prompt check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from accountability.models import ReviewItem
from generation.models import GenerationJob, HoldStage, JobStatus
from generation.tasks import run_generation, sweep_stuck_jobs
from tests.faults.harness import (
    assert_books_balance,
    own_redis,
    settled_kinds,
    wait_until,
    web_process_broker,
)
from tests.generation.conftest import balance, make_adult, subscribe
from tests.moderation_service.test_openai_adapter import FakeOpenAI, fake_openai  # noqa: F401
from tests.worker import running_worker

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SMALL = {"prompt": "a watercolour lighthouse at dawn", "width": 64, "height": 64, "steps": 4}
FINAL = {"succeeded", "failed", "blocked", "canceled", "held_for_review"}
RESEND_SECONDS = 3


def test_broker_down_at_publish_and_restarted_empty_loses_no_job(
    tiny_model_dir, api_for, tmp_path: Path
) -> None:
    """F3 + F4: the submit that cannot publish still answers 202 with its job; jobs whose
    messages a restarted broker lost are re-sent within the configured bound, keeping
    their queue places; each runs once and is charged once."""
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    with own_redis() as broker, web_process_broker(broker.url):
        broker.stop()
        down = client.post("/api/v1/generations", {**SMALL, "seed": 1}, format="json")
        assert down.status_code == 202, down.content
        assert down.json()["status"] == "queued"
        broker.start()
        lost = [
            client.post("/api/v1/generations", {**SMALL, "seed": seed}, format="json")
            for seed in (2, 3)
        ]
        assert [response.status_code for response in lost] == [202, 202]
        broker.stop()  # no persistence: the two published messages are gone
        broker.start()
        job_ids = [down.json()["id"], *(response.json()["id"] for response in lost)]
        queued_at = dict(GenerationJob.objects.values_list("pk", "queued_at"))
        assert GenerationJob.objects.filter(status=JobStatus.QUEUED).count() == 3
        env = {
            "CELERY_BROKER_URL": broker.url,
            "GENERATION_DISPATCH_RESEND_SECONDS": str(RESEND_SECONDS),
            "GENERATION_SWEEP_INTERVAL_SECONDS": "1",
        }
        beat = ["-B", "-s", str(tmp_path / "beat-schedule")]
        with running_worker(extra_env=env, extra_args=beat) as worker:
            ready = time.monotonic()
            jobs = [
                wait_until(
                    lambda job_id=job_id: GenerationJob.objects.filter(
                        pk=job_id, status__in=FINAL
                    ).first(),
                    timeout=120,
                    what="the lost jobs to run",
                )
                for job_id in job_ids
            ]
            waited = time.monotonic() - ready
            assert "resent" in worker.output()
    assert [job.status for job in jobs] == ["succeeded"] * 3, [job.error for job in jobs]
    # Within the bound (resend age + sweep interval), plus the runs themselves.
    assert waited < RESEND_SECONDS + 1 + 60, waited
    for job in jobs:
        assert job.queued_at == queued_at[job.pk]  # re-sending kept each job's place
        assert job.attempts == 1
        assert settled_kinds(job) == ["commit", "reserve"]
    assert balance(user) == (100 - sum(job.credits_reserved for job in jobs), 0)
    assert_books_balance()


def test_a_job_waiting_for_its_prompt_check_never_reaches_the_gpu(
    tiny_model_dir,
    api_for,
    settings,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    """F6: nobody consumes the moderation queue; the sweeper re-sends the check, never the
    GPU run, and a stray GPU message is refused by the claim. When the check comes back
    ``review``, the job is held with a review item and nothing was rendered."""
    fake_openai.scores(hate=0.6)  # the external layer will say: review
    settings.GENERATION_DISPATCH_RESEND_SECONDS = 1
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    external = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_API_BASE": fake_openai.url,
        "OPENAI_FAIL_POLICY": "review",
    }
    with running_worker(queues="gpu", extra_env=external) as gpu:
        job_id = client.post("/api/v1/generations", SMALL, format="json").json()["id"]
        job = GenerationJob.objects.get(pk=job_id)
        assert (job.status, job.awaiting_check) == (JobStatus.QUEUED, True)
        time.sleep(1.5)
        assert sweep_stuck_jobs() == {
            "requeued": 0,
            "failed": 0,
            "canceled": 0,
            "resent": 0,
            "rechecked": 1,
        }
        run_generation.delay(job_id)  # a stray GPU message, as the old sweeper sent
        gpu.wait_for_log(f"job {job_id} not claimable", timeout=60)
        assert GenerationJob.objects.get(pk=job_id).attempts == 0
        with running_worker(queues="moderation", extra_env=external):
            job = wait_until(
                lambda: GenerationJob.objects.filter(pk=job_id, status__in=FINAL).first(),
                timeout=120,
                what="the prompt check",
            )
    assert job.status == JobStatus.HELD_FOR_REVIEW
    assert job.hold_stage == HoldStage.PROMPT
    assert job.attempts == 0
    assert job.images.count() == 0
    assert ReviewItem.objects.filter(subject_id=job_id, kind="prompt").count() == 1
    assert settled_kinds(job) == ["reserve"]
    assert len(fake_openai.requests) >= 1
    assert_books_balance(finished=False)
