"""Locust users for ``loadtest.run``: each submits a generation, polls it to the end,
lists its jobs now and then, and submits again.

The API keys come from the JSON file named by ``LOADTEST_KEYS`` (written by
``loadtest.run``); each simulated user takes the next key. Every accepted submission's
job id is appended to ``LOADTEST_JOBS`` so the run can compare it with the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from typing import Any

from locust import HttpUser, between, task

FINISHED = {"succeeded", "failed", "blocked", "canceled", "held_for_review"}
_keys = json.loads(open(os.environ["LOADTEST_KEYS"]).read())  # noqa: SIM115
_next_key = itertools.cycle(range(len(_keys)))
_lock = threading.Lock()


def _record(job_id: str) -> None:
    with _lock, open(os.environ["LOADTEST_JOBS"], "a") as jobs:
        jobs.write(job_id + "\n")


class Subscriber(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        with _lock:
            key = _keys[next(_next_key)]
        self.client.headers["Authorization"] = f"Bearer {key}"

    @task(5)
    def submit_and_poll(self) -> None:
        body = {
            "prompt": random.choice(
                ["a lighthouse at dawn", "a bowl of lemons", "a red bicycle in the rain"]
            ),
            "width": 256,
            "height": 256,
            "steps": 4,
            "seed": random.randint(1, 10_000),
        }
        idempotency_key = str(uuid.uuid4())
        job_id = ""
        for _ in range(20):  # a client retries with the same key until it gets an answer
            with self.client.post(
                "/api/v1/generations",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
                name="POST /api/v1/generations",
                catch_response=True,
            ) as response:
                if response.status_code == 202:
                    job_id = str(response.json()["id"])
                    response.success()
                    break
                if response.status_code in (429, 503, 402):
                    # Refusals with a reason are answers, not errors of the site.
                    response.success()
                    if response.status_code == 402:
                        return
                    time.sleep(float(response.headers.get("Retry-After", "1") or 1))
                    continue
                response.failure(f"{response.status_code}: {response.text[:200]}")
                time.sleep(1)
        if not job_id:
            return
        _record(job_id)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with self.client.get(
                f"/api/v1/generations/{job_id}",
                name="GET /api/v1/generations/{id}",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}")
                    time.sleep(1)
                    continue
                status: Any = response.json().get("status")
            if status in FINISHED:
                return
            time.sleep(0.5)

    @task(1)
    def list_jobs(self) -> None:
        self.client.get("/api/v1/generations", name="GET /api/v1/generations")
