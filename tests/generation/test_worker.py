"""Generation through a real Celery worker process running the tiny test model."""

from __future__ import annotations

import hashlib
import io
import time
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from billing.models import CreditLedgerEntry
from generation.models import GenerationJob, JobStatus
from generation.tasks import sweep_stuck_jobs
from tests.faults.harness import assert_books_balance
from tests.generation.conftest import balance, make_adult, subscribe
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REQUEST = {
    "prompt": "a watercolour lighthouse at dawn",
    "width": 256,
    "height": 256,
    "steps": 4,
    "seed": 1234,
}


def wait_for(job_id: str, statuses: set[str], timeout: float = 180) -> GenerationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = GenerationJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} stuck in {GenerationJob.objects.get(pk=job_id).status}")


def image_bytes(client: Any, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def test_job_runs_to_success_and_only_its_owner_sees_the_images(tiny_model_dir, api_for) -> None:
    owner = make_adult()
    subscribe(owner)
    stranger = make_adult()
    subscribe(stranger)
    client = api_for(owner)
    job_id = client.post("/api/v1/generations", REQUEST, format="json").json()["id"]
    with running_worker():
        job = wait_for(job_id, {"succeeded", "failed", "blocked", "held_for_review"})
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.credits_charged == 1
    assert balance(owner) == (99, 0)
    assert job.started_at is not None and job.finished_at is not None
    assert set(job.timings) >= {"generate_s", "total_s"}
    body = client.get(f"/api/v1/generations/{job_id}").json()
    assert body["progress"] == {"step": 4, "total": 4}
    [image] = body["images"]
    data = image_bytes(client, image["url"])
    assert hashlib.sha256(data).hexdigest() == image["sha256"]
    assert Image.open(io.BytesIO(data)).size == (256, 256)
    stranger_response = api_for(stranger).get(image["url"])
    assert stranger_response.status_code == 404
    assert api_for(None).get(image["url"]).status_code == 401

    # The watermark survives a PNG round trip and the verify endpoint finds the image.
    reencoded = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(reencoded, format="PNG")
    reencoded.seek(0)
    reencoded.name = "copy.png"
    verify = client.post("/api/v1/provenance/verify", {"image": reencoded}, format="multipart")
    assert verify.status_code == 200
    assert verify.json()["found"] is True
    assert verify.json()["image_id"] == image["id"]
    assert verify.json()["generation_id"] == job_id
    reencoded.seek(0)
    as_stranger = api_for(stranger).post(
        "/api/v1/provenance/verify", {"image": reencoded}, format="multipart"
    )
    assert as_stranger.json()["found"] is True
    assert as_stranger.json()["image_id"] is None


def test_same_seed_and_parameters_give_identical_bytes(tiny_model_dir, api_for) -> None:
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    ids = [client.post("/api/v1/generations", REQUEST, format="json").json()["id"] for _ in "ab"]
    other = client.post("/api/v1/generations", {**REQUEST, "seed": 99}, format="json").json()["id"]
    with running_worker():
        jobs = [wait_for(job_id, {"succeeded", "failed"}) for job_id in [*ids, other]]
    assert [job.status for job in jobs] == ["succeeded"] * 3
    renders = [job.images.get().render_sha256 for job in jobs]
    # The rendered pixels are byte-identical for the same seed and parameters; the
    # delivered files differ only by each image's own watermark and metadata.
    assert renders[0] == renders[1]
    assert renders[0] != renders[2]
    files = [job.images.get().sha256 for job in jobs]
    assert files[0] != files[1]


def test_images_are_not_served_before_the_job_succeeded(tiny_model_dir, api_for) -> None:
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    job_id = client.post("/api/v1/generations", REQUEST, format="json").json()["id"]
    with running_worker():
        wait_for(job_id, {"succeeded"})
    image = GenerationJob.objects.get(pk=job_id).images.get()
    GenerationJob.objects.filter(pk=job_id).update(status=JobStatus.HELD_FOR_REVIEW)
    response = client.get(f"/api/v1/images/{image.pk}/file")
    assert response.status_code == 404
    assert client.get(f"/api/v1/generations/{job_id}").json()["images"] == []


def test_killed_worker_mid_job_is_rerun_and_charged_once(tiny_model_dir, api_for) -> None:
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    job_id = client.post("/api/v1/generations", {**REQUEST, "steps": 400}, format="json").json()[
        "id"
    ]
    cost = GenerationJob.objects.get(pk=job_id).credits_reserved
    env = {"GENERATION_LEASE_SECONDS": "2"}
    with running_worker(extra_env=env) as worker:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = GenerationJob.objects.get(pk=job_id)
            if job.status == JobStatus.RUNNING and job.progress_step >= 2:
                break
            time.sleep(0.05)
        assert job.status == JobStatus.RUNNING
        worker.kill_hard()
    assert GenerationJob.objects.get(pk=job_id).status == JobStatus.RUNNING
    assert balance(user) == (100 - cost, cost)
    time.sleep(2.5)  # the dead worker's lease runs out
    stuck = GenerationJob.objects.get(pk=job_id)
    assert stuck.lease_expires_at is not None
    assert stuck.lease_expires_at < timezone.now(), (stuck.lease_expires_at, timezone.now())
    assert sweep_stuck_jobs() == {
        "requeued": 1, "failed": 0, "canceled": 0, "resent": 0, "rechecked": 0
    }  # fmt: skip
    with running_worker(extra_env=env):
        job = wait_for(job_id, {"succeeded", "failed"}, timeout=300)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert balance(user) == (100 - cost, 0)
    reference = f"generation:{job_id}"
    kinds = sorted(
        CreditLedgerEntry.objects.filter(reference=reference).values_list("kind", flat=True)
    )
    assert kinds == ["commit", "reserve"]
    assert_books_balance()


def test_cancel_while_running_stops_between_steps_and_releases(tiny_model_dir, api_for) -> None:
    user = make_adult()
    subscribe(user, max_steps=400)
    client = api_for(user)
    job_id = client.post("/api/v1/generations", {**REQUEST, "steps": 400}, format="json").json()[
        "id"
    ]
    with running_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = GenerationJob.objects.get(pk=job_id)
            if job.status == JobStatus.RUNNING and job.progress_step >= 1:
                break
            time.sleep(0.05)
        response = client.post(f"/api/v1/generations/{job_id}/cancel")
        assert response.status_code == 200
        job = wait_for(job_id, {"canceled", "succeeded", "failed"})
    assert job.status == JobStatus.CANCELED
    assert job.progress_step < 400
    assert job.images.count() == 0
    assert balance(user) == (100, 0)
