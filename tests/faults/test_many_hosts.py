"""Many hosts, one engine: web, default/moderation worker and GPU worker each in its own
network namespace, on veth links this test creates (10.231.0.0/24), reaching
PostgreSQL and a Redis of the test's own over those links. The GPU host's link is cut
mid-job for longer than the lease, then restored: the job finishes exactly once.

Needs root and iproute2 (CI runs as root); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from accounts.services import api_key_create
from generation.models import GenerationJob, JobStatus
from tests.faults.harness import (
    FIRST_PORT,
    assert_books_balance,
    own_redis,
    settled_kinds,
    wait_until,
)
from tests.generation.conftest import balance, make_adult, subscribe
from tests.worker import running_worker

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("ip") is None,
        reason="network namespaces need root and iproute2",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
HOSTS = {"web": 0, "wrk": 1, "gpu": 2}  # each host gets 10.231.0.(4n+1)/30 ↔ (4n+2)/30
REDIS_PORT = FIRST_PORT + 2
WEB_PORT = 8000
PG_PORT = int(connection.settings_dict.get("PORT") or 5432)


@dataclass(frozen=True)
class Host:
    name: str  # the namespace, igf-<name>
    outside: str  # the root-namespace end of its link (where PostgreSQL and Redis answer)
    inside: str  # its own address

    @property
    def netns(self) -> list[str]:
        return ["ip", "netns", "exec", f"igf-{self.name}"]

    @property
    def link(self) -> str:
        return f"igf-{self.name}0"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def remove_hosts() -> None:
    for name in HOSTS:
        subprocess.run(["ip", "netns", "del", f"igf-{name}"], capture_output=True)
        subprocess.run(["ip", "link", "del", f"igf-{name}0"], capture_output=True)


@pytest.fixture
def hosts() -> Iterator[dict[str, Host]]:
    remove_hosts()
    made: dict[str, Host] = {}
    try:
        for name, number in HOSTS.items():
            host = Host(name, f"10.231.0.{4 * number + 1}", f"10.231.0.{4 * number + 2}")
            ip("netns", "add", f"igf-{name}")
            ip("link", "add", host.link, "type", "veth", "peer", "name", f"igf-{name}1")
            ip("link", "set", f"igf-{name}1", "netns", f"igf-{name}")
            ip("addr", "add", f"{host.outside}/30", "dev", host.link)
            ip("link", "set", host.link, "up")
            ip("netns", "exec", f"igf-{name}", "ip", "addr", "add", f"{host.inside}/30",
               "dev", f"igf-{name}1")  # fmt: skip
            ip("netns", "exec", f"igf-{name}", "ip", "link", "set", f"igf-{name}1", "up")
            ip("netns", "exec", f"igf-{name}", "ip", "link", "set", "lo", "up")
            made[name] = host
        yield made
    finally:
        remove_hosts()


def environment(host: Host) -> dict[str, str]:
    database = str(connection.settings_dict["NAME"])
    return {
        "DATABASE_URL": f"postgres://postgres@{host.outside}:{PG_PORT}/{database}",
        "CELERY_BROKER_URL": f"redis://{host.outside}:{REDIS_PORT}/0",
        "REDIS_URL": f"redis://{host.outside}:{REDIS_PORT}/1",
    }


def start(stack: ExitStack, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    return process


def test_cutting_the_gpu_hosts_link_mid_job_finishes_it_exactly_once(
    hosts: dict[str, Host], tiny_model_dir, tmp_path: Path
) -> None:
    user = make_adult()
    subscribe(user, max_steps=400)
    key = api_key_create(user=user, name="hosts", scopes=["read", "generate"]).raw_key
    outsides = tuple(host.outside for host in hosts.values())
    with ExitStack() as stack:
        stack.enter_context(own_redis(offset=2, binds=("127.0.0.1", *outsides)))
        forward = [f"{address}:{PG_PORT}" for address in outsides]
        start(stack, [sys.executable, str(Path(__file__).with_name("tcp_forward.py")),
                      f"127.0.0.1:{PG_PORT}", *forward], {})  # fmt: skip
        web, wrk, gpu = hosts["web"], hosts["wrk"], hosts["gpu"]
        settings_env = {
            "DJANGO_SETTINGS_MODULE": "imagegate.settings.test",
            "IMAGEGATE_WORKER_DB_NAME": str(connection.settings_dict["NAME"]),
        }
        start(stack, [*web.netns, sys.executable, "-m", "gunicorn", "imagegate.wsgi",
                      "-b", f"{web.inside}:{WEB_PORT}", "-w", "1", "--timeout", "60"],
              {**settings_env, **environment(web), "DJANGO_ALLOWED_HOSTS": web.inside})  # fmt: skip
        stack.enter_context(
            running_worker(
                queues="default,moderation",
                extra_env={**environment(wrk), "GENERATION_SWEEP_INTERVAL_SECONDS": "1"},
                extra_args=["-B", "-s", str(tmp_path / "beat-schedule")],
                prefix=wrk.netns,
            )
        )
        gpu_worker = stack.enter_context(
            running_worker(
                queues="gpu",
                extra_env={**environment(gpu), "GENERATION_LEASE_SECONDS": "6"},
                prefix=gpu.netns,
            )
        )
        api = f"http://{web.inside}:{WEB_PORT}/api/v1"
        auth = {"Authorization": f"Bearer {key}"}

        def web_up() -> bool:
            try:
                return requests.get(f"{api}/me", headers=auth, timeout=10).status_code == 200
            except requests.RequestException:
                return False

        wait_until(web_up, timeout=90, every=0.5, what="the web host")
        request: dict[str, Any] = {"prompt": "a lighthouse at dawn", "width": 256, "height": 256,
                   "steps": 150, "seed": 5}  # fmt: skip
        response = requests.post(f"{api}/generations", json=request, headers=auth, timeout=30)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        wait_until(
            lambda: GenerationJob.objects.filter(
                pk=job_id, status=JobStatus.RUNNING, progress_step__gte=3
            ).exists(),
            timeout=180,
            what="the GPU host to start the job",
        )
        ip("link", "set", gpu.link, "down")
        try:
            requeued = wait_until(
                lambda: GenerationJob.objects.filter(
                    pk=job_id, status=JobStatus.QUEUED, attempt_token__isnull=True
                ).first(),
                timeout=60,
                what="the sweeper on the worker host to take the job back",
            )
            assert requeued.attempts == 1
        finally:
            ip("link", "set", gpu.link, "up")
        job = wait_until(
            lambda: GenerationJob.objects.filter(
                pk=job_id, status__in=["succeeded", "failed", "canceled", "blocked"]
            ).first(),
            timeout=300,
            what="the job to finish after the link came back",
        )
        # "... lost its job; stopping", or "; dropped from its batch" for a batched attempt
        gpu_worker.wait_for_log("lost its job;", timeout=60)
        detail = requests.get(f"{api}/generations/{job_id}", headers=auth, timeout=30).json()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts >= 2  # (a loaded 2-core machine may stretch one more lease)
    assert job.images.count() == 1
    assert detail["status"] == "succeeded" and len(detail["images"]) == 1
    assert settled_kinds(job) == ["commit", "reserve"]
    assert balance(user) == (100 - job.credits_reserved, 0)
    assert_books_balance()
