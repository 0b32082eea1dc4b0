"""A real Celery worker process for tests whose point is the worker.

The worker runs ``imagegate.settings.test`` with this test run's id, so it uses the
same broker key prefix (Redis) or broker folder (filesystem) as the test process, and
``IMAGEGATE_WORKER_DB_NAME`` points it at the test database that pytest-django made.
Tests using it need ``django_db(transaction=True)``: the worker sees committed rows only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WorkerProcess:
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)
    node: str = ""  # the worker's node name before "@host" (jobs record it)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return "".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.output()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker never logged {text!r}:\n{self.output()}")

    def kill_hard(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP the whole worker: alive but silent, as a stalled host would be."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill_hard()
            except ProcessLookupError:
                pass


def start_worker(
    *,
    queues: str = "default,moderation,gpu",
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    prefix: list[str] | None = None,
) -> WorkerProcess:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="imagegate.settings.test",
        IMAGEGATE_TEST_RUN_ID=os.environ["IMAGEGATE_TEST_RUN_ID"],
        IMAGEGATE_WORKER_DB_NAME=str(connection.settings_dict["NAME"]),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    node = f"test-{os.getpid()}-{time.monotonic_ns()}"
    command = [
        *(prefix or []), sys.executable, "-m", "celery", "-A", "imagegate", "worker",
        "-Q", queues, "-c", str(concurrency), "--pool", "prefork",
        "-n", f"{node}@%h",
        "--without-mingle", "--without-gossip", "-l", "info", *(extra_args or []),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    worker = WorkerProcess(process, node=node)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            worker.log.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        worker.wait_for_log("ready.")
    except BaseException:
        worker.kill_hard()  # never leave a worker behind that did not come up
        raise
    return worker


@contextmanager
def running_worker(**kwargs: object) -> Iterator[WorkerProcess]:
    worker = start_worker(**kwargs)  # type: ignore[arg-type]
    try:
        yield worker
    finally:
        worker.stop()
