"""Run the load test on loopback and reconcile the books afterwards.

    python -m loadtest.run --users 30 --duration 180 --kill-worker-at 60 \
        --restart-redis-at 120 --out var/loadtest

It makes a fresh database (its name must contain ``loadtest``: it is dropped first),
starts a Redis of its own (``--redis-port``, no persistence; broker and cache), gunicorn,
a default/moderation worker, a GPU worker and beat, then runs locust headless. At
``--kill-worker-at`` seconds the GPU worker is SIGKILLed and a new one started; at
``--restart-redis-at`` Redis is SIGKILLed and started again, empty. When locust stops,
it waits for every job to finish (``--drain-timeout``), stops everything and checks:

* every job a client was answered 202 for is in the database and no other job is;
* no job is left queued or running;
* every reservation is settled exactly once and as its job's state says (succeeded:
  committed for ``credits_charged``; failed, blocked, canceled: released; held for
  review: still reserved);
* for every user, balance + reserved = grants + adjustments − commits, and reserved
  equals what held jobs still hold;
* every image row has its file, every file has its row, and every succeeded job has
  ``num_images`` images.

It writes ``summary.json`` and locust's CSVs under ``--out`` and exits 1 when anything
does not reconcile.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--duration", type=int, default=180, help="seconds of load")
    parser.add_argument("--kill-worker-at", type=float, default=60.0, help="seconds; <0: never")
    parser.add_argument("--restart-redis-at", type=float, default=120.0, help="seconds; <0: never")
    parser.add_argument("--redis-port", type=int, default=6413)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--credits", type=int, default=10_000, help="granted to each user")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--lease-seconds", type=int, default=15)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/imagegate_loadtest"
        ),
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "loadtest")
    parser.add_argument("--drop-database-after", action="store_true")
    parser.add_argument(
        "--write-doc", type=Path, default=None,
        help="write the results as a section of this Markdown file (docs/benchmarks.md)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="use --database-url as it is (migrated, reference data seeded, no jobs)",
    )
    return parser.parse_args(argv)


class Child:
    """A child process in its own session, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], out: Path) -> None:
        self.name = name
        self.log_path = out / f"{name}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's life)
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def wait_for_log(self, text: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} never logged {text!r}; see {self.log_path}")


def _fresh_database(url: str, *, create: bool = True) -> None:
    """Drop the load test's database and (unless ``create`` is false) make it again."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "loadtest" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the load test's database name must say so")
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
        user=parts.username or "postgres", password=parts.password, dbname="postgres",
        autocommit=True,
    ) as admin:  # fmt: skip
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def _celery(name: str, queues: str, env: dict[str, str], out: Path, concurrency: int) -> Child:
    command = [
        sys.executable, "-m", "celery", "-A", "imagegate", "worker", "-Q", queues,
        "-c", str(concurrency), "-n", f"{name}-{time.monotonic_ns()}@%h",
        "--without-mingle", "--without-gossip", "-l", "info",
    ]  # fmt: skip
    return Child(name, command, env, out)


def _make_users(count: int, credits: int) -> list[str]:
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import AgeVerificationStatus, User
    from accounts.services import api_key_create
    from billing.credits import credits_grant
    from billing.models import Customer, Plan, Subscription

    plan = Plan.objects.get(code="premium")
    now = timezone.now()
    keys = []
    for index in range(count):
        user = User.objects.create_user(
            email=f"load-{index}@example.com", password=f"load-test-password-{index}",
            date_of_birth=dt.date(1990, 5, 17), country="DE",
            age_verification_status=AgeVerificationStatus.VERIFIED, age_verified_at=now,
        )  # fmt: skip
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        customer = Customer.objects.create(user=user, stripe_customer_id=f"cus_load_{index}")
        Subscription.objects.create(
            stripe_subscription_id=f"sub_load_{index}", user=user, customer=customer,
            plan=plan, status="active", current_period_start=now,
            current_period_end=now + dt.timedelta(days=30),
        )  # fmt: skip
        credits_grant(user=user, amount=credits, reason="load test", reference=f"load:{index}")
        created = api_key_create(user=user, name="load test", scopes=["read", "generate"])
        keys.append(created.raw_key)
    return keys


def _unfinished() -> int:
    from generation.models import GenerationJob, JobStatus

    return GenerationJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()


def finished_per_minute(marks: list[tuple[str, dt.datetime]]) -> list[dict[str, Any]]:
    """Jobs finished per minute in each phase between consecutive marks."""
    from generation.models import GenerationJob

    phases = []
    for (name, start), (_, end) in itertools.pairwise(marks):
        seconds = max((end - start).total_seconds(), 1e-9)
        done = GenerationJob.objects.filter(finished_at__gte=start, finished_at__lt=end).count()
        phases.append(
            {"phase": name, "seconds": round(seconds, 1), "finished": done,
             "per_minute": round(done * 60 / seconds, 1)}
        )  # fmt: skip
    return phases


def reconcile(*, accepted: set[str], media_root: Path) -> dict[str, Any]:
    """The books after the run; ``problems`` lists every mismatch (empty: exact)."""
    from django.db.models import Sum

    from accounts.models import User
    from billing.credits import credits_balance
    from billing.models import CreditLedgerEntry, LedgerKind
    from generation.models import GeneratedImage, GenerationJob, JobStatus

    problems: list[str] = []
    jobs = {str(job.pk): job for job in GenerationJob.objects.all()}
    if set(jobs) != accepted:
        problems.append(
            f"jobs without a 202: {len(set(jobs) - accepted)}, "
            f"202s without a job: {len(accepted - set(jobs))}"
        )
    statuses = Counter(job.status for job in jobs.values())
    if statuses[JobStatus.QUEUED] or statuses[JobStatus.RUNNING]:
        problems.append(
            f"unfinished jobs: {statuses[JobStatus.QUEUED] + statuses[JobStatus.RUNNING]}"
        )
    entries: dict[str, list[tuple[str, int]]] = {}
    for reference, kind, amount in CreditLedgerEntry.objects.filter(
        kind__in=[LedgerKind.RESERVE, LedgerKind.COMMIT, LedgerKind.RELEASE]
    ).values_list("reference", "kind", "amount"):
        entries.setdefault(reference, []).append((kind, int(amount)))
    wrong_settlement = 0
    for job in jobs.values():
        kinds = sorted(entries.get(job.credit_reference, []))
        reserved = [amount for kind, amount in kinds if kind == LedgerKind.RESERVE]
        settled = [(kind, amount) for kind, amount in kinds if kind != LedgerKind.RESERVE]
        if not reserved:
            expected: list[tuple[str, int]] = []
        elif job.status == JobStatus.SUCCEEDED:
            expected = [(LedgerKind.COMMIT, job.credits_charged)]
        elif job.status in (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.BLOCKED):
            expected = [(LedgerKind.RELEASE, reserved[0])]
        else:
            expected = []
        if len(reserved) > 1 or settled != expected:
            wrong_settlement += 1
    if wrong_settlement:
        problems.append(
            f"jobs whose credits are not settled as their state says: {wrong_settlement}"
        )
    unbalanced = 0
    for user in User.objects.filter(email__startswith="load-"):

        def total(kind: str, user: Any = user) -> int:
            rows = CreditLedgerEntry.objects.filter(user=user, kind=kind)
            return int(rows.aggregate(total=Sum("amount"))["total"] or 0)

        held = credits_balance(user=user)
        if held.balance + held.reserved != (
            total(LedgerKind.GRANT) + total(LedgerKind.ADJUSTMENT) - total(LedgerKind.COMMIT)
        ):
            unbalanced += 1
    if unbalanced:
        problems.append(f"users whose ledger does not balance: {unbalanced}")
    images = list(GeneratedImage.objects.values_list("job_id", "storage_key", "purged_at"))
    keys = {key for _, key, purged in images if purged is None}
    files = {str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()}
    missing = sorted(keys - files)
    orphans = sorted(files - keys)
    if missing:
        problems.append(f"image rows without a file: {len(missing)}")
    if orphans:
        problems.append(f"files without an image row: {len(orphans)}")
    per_job = Counter(str(job_id) for job_id, _, _ in images)
    short = sum(
        1 for job in jobs.values()
        if job.status == JobStatus.SUCCEEDED and per_job[str(job.pk)] != job.num_images
    )  # fmt: skip
    if short:
        problems.append(f"succeeded jobs without all their images: {short}")
    return {
        "jobs": len(jobs),
        "accepted_202": len(accepted),
        "statuses": dict(sorted(statuses.items())),
        "images": len(images),
        "files": len(files),
        "problems": problems,
    }


def _locust_stats(prefix: Path) -> list[dict[str, str]]:
    path = prefix.with_name(prefix.name + "_stats.csv")
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            {k: row[k] for k in ("Name", "Request Count", "Failure Count", "Median Response Time",
                                 "95%", "Requests/s")}
            for row in csv.DictReader(handle)
        ]  # fmt: skip


DOC_BEGIN = "<!-- benchmarks:loadtest:begin -->"
DOC_END = "<!-- benchmarks:loadtest:end -->"


def write_doc(summary: dict[str, Any], args: argparse.Namespace, doc: Path) -> None:
    from benchmarks import write_section

    command = (
        f"python -m loadtest.run --users {args.users} --duration {args.duration} "
        f"--kill-worker-at {args.kill_worker_at:g} --restart-redis-at {args.restart_redis_at:g}"
    )
    lines = [
        DOC_BEGIN,
        "### Load test: measured",
        "",
        f"Measured {summary['date']} with `{command}` on {summary['machine']} "
        f"(load average {summary['load_average']} at the start). "
        "256×256, 4 steps, the tiny test model; one GPU worker, one "
        "default/moderation worker, gunicorn with "
        f"{args.web_workers} workers, beat, a Redis of its own. Faults: "
        + ("; ".join(summary["faults"]) or "none")
        + ".",
        "",
        "| request | count | failures | median ms | p95 ms | per second |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["requests"]:
        lines.append(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
            f"{row['Median Response Time']} | {row['95%']} | {float(row['Requests/s']):.2f} |"
        )
    lines += ["", "| phase | seconds | jobs finished | per minute |", "|---|---|---|---|"]
    for phase in summary["phases"]:
        lines.append(
            f"| {phase['phase']} | {phase['seconds']} | {phase['finished']} | "
            f"{phase['per_minute']} |"
        )
    statuses = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items()) or "none"
    verdict = (
        "reconciled exactly"
        if not summary["problems"]
        else ("did **not** reconcile: " + "; ".join(summary["problems"]))
    )
    lines += [
        "",
        f"Jobs: {summary['accepted_202']} answered 202, {summary['jobs']} in the database "
        f"({statuses}); {summary['images']} image rows, {summary['files']} files; drained "
        f"in {summary['drain_seconds']} s after the load stopped. The books {verdict}.",
        DOC_END,
    ]
    write_section(DOC_BEGIN, DOC_END, "\n".join(lines), doc)


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(143)  # runs the ``finally`` that stops every child


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.log"):
        old.unlink()
    media_root = out / "media"
    if media_root.exists():
        import shutil

        shutil.rmtree(media_root)
    media_root.mkdir()
    jobs_file, keys_file = out / "jobs.txt", out / "keys.json"
    jobs_file.write_text("")
    began = time.monotonic()
    load_average = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    if not args.reuse_database:
        _fresh_database(args.database_url)
    redis_url = f"redis://127.0.0.1:{args.redis_port}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="imagegate.settings.base",
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=f"{redis_url}/0",
        REDIS_URL=f"{redis_url}/1",
        MEDIA_ROOT=str(media_root),
        GENERATION_LEASE_SECONDS=str(args.lease_seconds),
        IMAGEGATE_TORCH_THREADS="1",
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        LOADTEST_KEYS=str(keys_file),
        LOADTEST_JOBS=str(jobs_file),
    )
    env.pop("IMAGEGATE_WORKER_DB_NAME", None)
    os.environ.update(env)
    if not args.reuse_database:
        for step in (["migrate", "--noinput", "-v", "0"], ["moderation_policy_refresh"]):
            subprocess.run(
                [sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
    import django

    django.setup()
    keys_file.write_text(json.dumps(_make_users(args.users, args.credits)))

    redis_command = [
        "redis-server", "--port", str(args.redis_port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no",
    ]  # fmt: skip
    children: list[Child] = []
    faults: list[str] = []
    started = time.monotonic()
    setup_seconds = started - began
    try:
        redis = Child("redis", redis_command, env, out)
        children.append(redis)
        redis.wait_for_log("Ready to accept connections", 30)
        port = 18000 + args.redis_port % 1000
        web = Child("web", [
            sys.executable, "-m", "gunicorn", "imagegate.wsgi:application",
            "-b", f"127.0.0.1:{port}", "-w", str(args.web_workers), "--timeout", "60",
            "--no-control-socket",
        ], env, out)  # fmt: skip
        default = _celery("default", "default,moderation", env, out, 1)
        gpu = _celery("gpu", "gpu", env, out, 1)
        beat = Child("beat", [
            sys.executable, "-m", "celery", "-A", "imagegate", "beat", "-l", "info",
            "-s", str(out / "celerybeat-schedule"),
        ], env, out)  # fmt: skip
        children += [web, default, gpu, beat]
        web.wait_for_log("Booting worker")
        default.wait_for_log("ready.")
        gpu.wait_for_log("ready.")
        locust = Child("locust", [
            sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"),
            "--headless", "-u", str(args.users), "-r", str(max(1, args.users // 5)),
            "-t", f"{args.duration}s", "-H", f"http://127.0.0.1:{port}",
            "--csv", str(out / "locust"), "--only-summary", "--stop-timeout", "30",
        ], env, out)  # fmt: skip
        startup_seconds = time.monotonic() - started
        load_started = time.monotonic()
        marks = [("before any fault (baseline)", dt.datetime.now(dt.UTC))]
        killed = restarted = False
        while locust.process.poll() is None:
            elapsed = time.monotonic() - load_started
            if not killed and 0 <= args.kill_worker_at <= elapsed:
                gpu.kill()
                gpu = _celery("gpu", "gpu", env, out, 1)
                children.append(gpu)
                faults.append(f"{elapsed:.0f}s: GPU worker SIGKILLed, a new one started")
                marks.append(("after the GPU worker was killed", dt.datetime.now(dt.UTC)))
                killed = True
            if not restarted and 0 <= args.restart_redis_at <= elapsed:
                redis.kill()
                redis = Child("redis", redis_command, env, out)
                children.append(redis)
                redis.wait_for_log("Ready to accept connections", 30)
                faults.append(f"{elapsed:.0f}s: Redis SIGKILLed and restarted empty")
                marks.append(("after Redis restarted empty", dt.datetime.now(dt.UTC)))
                restarted = True
            time.sleep(0.5)
        load_seconds = time.monotonic() - load_started
        marks.append(("drain (load stopped)", dt.datetime.now(dt.UTC)))
        drain_started = time.monotonic()
        while _unfinished() and time.monotonic() - drain_started < args.drain_timeout:
            time.sleep(1)
        drain_seconds = time.monotonic() - drain_started
        marks.append(("end", dt.datetime.now(dt.UTC)))
    finally:
        for child in reversed(children):
            child.kill(signal.SIGTERM, timeout=15)
    accepted = {line for line in jobs_file.read_text().split() if line}
    books = reconcile(accepted=accepted, media_root=media_root)
    summary = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
        "users": args.users,
        "load_average": load_average,
        "database_setup_seconds": round(setup_seconds, 1),
        "process_startup_seconds": round(startup_seconds, 1),
        "load_seconds": round(load_seconds, 1),
        "drain_seconds": round(drain_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "faults": faults,
        "phases": finished_per_minute(marks),
        "requests": _locust_stats(out / "locust"),
        **books,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if args.write_doc is not None:
        write_doc(summary, args, args.write_doc)
    if args.drop_database_after:
        from django.db import connections

        connections.close_all()
        _fresh_database(args.database_url, create=False)
    return 1 if books["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
