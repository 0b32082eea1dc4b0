"""Files and rows agree when the connection dies between the PNG write and the commit;
a real web process (gunicorn) survives idle connections cut and answers a database
outage with 503 + Retry-After."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.storage import default_storage
from django.db import OperationalError, connection
from PIL import Image

from accounts.services import api_key_create
from generation.attempts import OutputVerdict, attempt_claim, attempt_conclude
from generation.files import orphan_files_delete, store_images
from generation.models import GeneratedImage, GenerationJob, JobStatus
from generation.services import GenerationRequest, generation_submit
from tests.faults.harness import (
    FIRST_PORT,
    assert_books_balance,
    image_files,
    settled_kinds,
    terminate_backends,
    web_process_broker,
)
from tests.faults.test_job_states import CLOSED_BROKER, SMALL, _terminate_own_backend
from tests.generation.conftest import make_adult, subscribe
from tests.markers import on_postgresql

ROOT = Path(__file__).resolve().parents[2]
WEB_PORT = FIRST_PORT + 7


def submitted(user: Any, seed: int) -> GenerationJob:
    with web_process_broker(CLOSED_BROKER):
        return generation_submit(user=user, request=GenerationRequest(**SMALL, seed=seed))


@pytest.mark.django_db(transaction=True)
@on_postgresql("kills the database backend mid-task")
def test_a_connection_killed_between_the_png_and_the_commit_leaves_no_orphan() -> None:
    """F5: the PNG is written, then PostgreSQL drops the worker's connection before the
    commit: the row never exists, the job stays running (the sweeper re-queues it), and
    the orphan sweep deletes the file once past its grace period, sparing real images."""
    user = make_adult()
    subscribe(user)
    kept_job, cut_job = submitted(user, 1), submitted(user, 2)
    pixels = [Image.new("RGB", (64, 64), (120, 30, 200))]

    kept = attempt_claim(job_id=str(kept_job.pk), worker="w")
    assert kept is not None
    attempt_conclude(  # held for review: rows and files kept, not yet delivered
        attempt=kept,
        verdict=OutputVerdict("review"),
        timings={},
        store=lambda job: store_images(job, pixels),
    )
    cut = attempt_claim(job_id=str(cut_job.pk), worker="w")
    assert cut is not None

    def store_then_lose_the_connection(job: GenerationJob) -> list[GeneratedImage]:
        stored = store_images(job, pixels)
        _terminate_own_backend()
        return stored

    with pytest.raises(OperationalError):
        attempt_conclude(
            attempt=cut,
            verdict=OutputVerdict("allow"),
            timings={},
            store=store_then_lose_the_connection,
        )
    connection.close()
    orphans = [key for key in image_files() if f"/{cut_job.pk}/" in key]
    assert len(orphans) == 1
    assert not GeneratedImage.objects.filter(job=cut_job).exists()
    assert GenerationJob.objects.get(pk=cut_job.pk).status == JobStatus.RUNNING
    assert settled_kinds(cut_job) == ["reserve"]

    folder = f"generations/{user.pk}"  # (other tests' files are not this test's to count)
    assert orphan_files_delete(folder=folder) == 0  # inside the grace: maybe still committing
    assert default_storage.exists(orphans[0])
    assert orphan_files_delete(grace_seconds=0, folder=folder) == 1
    assert not default_storage.exists(orphans[0])
    real = GeneratedImage.objects.get(job=kept_job)
    assert default_storage.exists(real.storage_key)
    assert_books_balance(finished=False)


@contextmanager
def web_process(**env: str) -> Iterator[str]:
    """gunicorn (one sync worker) on this test's database, like production."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imagegate.settings.test",
        "IMAGEGATE_WORKER_DB_NAME": str(connection.settings_dict["NAME"]),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "imagegate.wsgi", "-b", f"127.0.0.1:{WEB_PORT}",
         "-w", "1", "--timeout", "60"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{WEB_PORT}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise TimeoutError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def call(base: str, path: str, key: str) -> tuple[int, dict[str, str], Any]:
    response = requests.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return response.status_code, dict(response.headers), response.json()


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_the_web_process_survives_cut_connections_and_answers_outages_with_503() -> None:
    """F8: persistent connections (CONN_MAX_AGE=60) cut while idle cost no request; a
    database that cannot be reached answers 503 ``service_unavailable`` + Retry-After."""
    user = make_adult()
    subscribe(user)
    key = api_key_create(user=user, name="faults", scopes=["read", "generate"]).raw_key
    with web_process(DATABASE_CONN_MAX_AGE="60") as base:
        assert call(base, "/api/v1/me", key)[0] == 200
        for _ in range(3):
            assert terminate_backends() >= 1  # the web process's idle connection
            status, _, body = call(base, "/api/v1/me", key)
            assert status == 200, body
    closed = f"postgres://postgres@127.0.0.1:{FIRST_PORT + 8}/nothing"
    with web_process(DATABASE_URL=closed) as base:
        status, headers, body = call(base, "/api/v1/generations", key)
        # A page (outside the API) whose session lookup needs the database.
        page = requests.get(f"{base}/account/", cookies={"sessionid": "x" * 32}, timeout=30)
    assert page.status_code == 503, page.text
    assert page.headers["Retry-After"] == "5"
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["details"] == {"retry_after": 5}
