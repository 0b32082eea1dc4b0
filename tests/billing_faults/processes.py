"""Real processes for the payment fault tests: a Redis of the test's own, a web server
(gunicorn) and a Celery worker with its beat, all on this test's database.

Ports: the Redis listens on ``IMAGEGATE_FAULT_REDIS_PORT`` (default 6411); the web
server on a free loopback port. Every process is started in its own session and
stopped by its own pid when the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_PORT = int(os.environ.get("IMAGEGATE_FAULT_REDIS_PORT", "6411"))


@dataclass
class Process:
    """A child process whose output is collected in memory."""

    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)

    def start(self) -> Process:
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        process = self.process

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self.log.append(line)

        threading.Thread(target=pump, daemon=True).start()
        return self

    def output(self) -> str:
        return "".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.command[:3]} exited early:\n{self.output()}")
            time.sleep(0.1)
        raise TimeoutError(f"never logged {text!r}:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a process that works on this test's database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="imagegate.settings.test",
        IMAGEGATE_TEST_RUN_ID=os.environ["IMAGEGATE_TEST_RUN_ID"],
        IMAGEGATE_WORKER_DB_NAME=str(connection.settings_dict["NAME"]),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class OwnRedis:
    """A Redis without persistence: stopping it loses everything, as a crash would."""

    def __init__(self, port: int = REDIS_PORT) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.server: Process | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        self.server = Process(command, dict(os.environ)).start()
        self.server.wait_for_log("Ready to accept connections", timeout=30)

    def crash(self) -> None:
        """SIGKILL: queued messages are gone."""
        if self.server is not None:
            self.server.stop(signal.SIGKILL)
            self.server = None

    def queued(self) -> int:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            return sum(
                int(client.llen(key))
                for key in client.scan_iter("*")
                if client.type(key) == b"list"
            )
        finally:
            client.close()


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.crash()


@contextmanager
def web_server(*, broker_url: str, **extra: str) -> Iterator[str]:
    """gunicorn serving the site on a free port; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "imagegate.wsgi:application",
        "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "30",
        "--no-control-socket",
    ]  # fmt: skip
    server = Process(command, child_env(CELERY_BROKER_URL=broker_url, **extra)).start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = f"{base}/healthz"  # loopback http only
                with urllib.request.urlopen(health, timeout=20) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:  # refused while it boots (URLError), or slow to answer
                if time.monotonic() > deadline or server.process.poll() is not None:  # type: ignore[union-attr]
                    raise RuntimeError(f"web server never answered:\n{server.output()}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.stop()
        if os.environ.get("IMAGEGATE_FAULT_DEBUG"):
            print(server.output())


def celery_worker(
    *, broker_url: str | None = None, beat: bool = False, schedule_dir: Path | None = None,
    **extra: str,
) -> Process:  # fmt: skip
    """A real Celery worker on the default queue (with its beat when asked)."""
    env = child_env(**extra)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    command = [
        sys.executable, "-m", "celery", "-A", "imagegate", "worker", "-Q", "default",
        "-c", "1", "--pool", "prefork", "-n", f"billing-faults-{time.monotonic_ns()}@%h",
        "--without-mingle", "--without-gossip", "-l", "info",
    ]  # fmt: skip
    if beat:
        assert schedule_dir is not None
        command += ["-B", "-s", str(schedule_dir / "beat-schedule")]
    worker = Process(command, env).start()
    worker.wait_for_log("ready.")
    return worker


def post_json(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST to the loopback web server started by ``web_server`` (http only)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
