"""The submit path against the machine's ceiling, side by side (``make bench``).

    python -m benchmarks.http [--duration 10] [--rounds 3] [--quick]

Starts its own Redis (port 6421) unless ``REDIS_URL`` is set (then ``CELERY_BROKER_URL``
too) and its own PostgreSQL (port 5441, a throwaway cluster) unless ``DATABASE_URL`` is
set (its data stays there: 200 subscribers and the jobs the runs submit); runs gunicorn
for the project (production settings, port 8201) and for the bare DRF app of
``benchmarks/bare`` (port 8202), both
with the same worker count; drives them with ``wrk`` in interleaved rounds (hello,
insert, submit, status poll, conditional status poll, ...); counts SQL statements and
Redis round trips per submit in-process; times the moderation layers; reads the web
workers' RSS and whether libtorch is mapped; writes the "Submit path" section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_section  # noqa: E402

BEGIN, END = "<!-- benchmarks:submit:begin -->", "<!-- benchmarks:submit:end -->"
REDIS_PORT = 6421
PG_PORT = 5441
PROJECT_PORT = 8201
BARE_PORT = 8202
TARGET_RATIO = 0.40
TARGET_P99_MS = 100.0

LUA_COMMON = """
local keys, prompts, jobs = {}, {}, {}
for line in io.lines("%(dir)s/keys.txt") do keys[#keys + 1] = line end
for line in io.lines("%(dir)s/prompts.txt") do prompts[#prompts + 1] = line end
for line in io.lines("%(dir)s/jobs.txt") do jobs[#jobs + 1] = line end
local etags = {}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local last = 0
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d, "non_2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
"""

LUA = {
    "hello": "request = function() return wrk.format('GET', '/hello') end",
    "insert": """
request = function()
  local body = string.format('{"prompt": "%s", "width": 512, "height": 512, "steps": 25}',
    prompts[math.random(#prompts)])
  return wrk.format('POST', '/insert', {['Content-Type'] = 'application/json'}, body)
end""",
    "submit": """
request = function()
  local body = string.format('{"prompt": "%s", "width": 512, "height": 512, "steps": 25}',
    prompts[math.random(#prompts)])
  return wrk.format('POST', '/api/v1/generations', {
    ['Content-Type'] = 'application/json',
    ['Authorization'] = 'Bearer ' .. keys[math.random(#keys)]}, body)
end""",
    "status": """
request = function()
  local i = math.random(#keys)
  return wrk.format('GET', '/api/v1/generations/' .. jobs[i],
    {['Authorization'] = 'Bearer ' .. keys[i]})
end""",
    # A poller that sends back the ETag it was given for that job: mostly 304 Not
    # Modified. The ETag names its job, since a wrk thread's connections interleave.
    "status_etag": """
request = function()
  local i = math.random(#keys)
  local headers = {['Authorization'] = 'Bearer ' .. keys[i]}
  if etags[jobs[i]] then headers['If-None-Match'] = etags[jobs[i]] end
  return wrk.format('GET', '/api/v1/generations/' .. jobs[i], headers)
end
response = function(status, headers, body)
  local etag = headers['ETag']
  if etag then
    local job = string.match(etag, '^W/"([^:]+):')
    if job then etags[job] = etag end
  end
end""",
}

TARGETS = {
    "hello": (BARE_PORT, "bare hello (plain Django JSON view)"),
    "insert": (BARE_PORT, "bare insert (DRF serializer + one INSERT in a transaction)"),
    "submit": (PROJECT_PORT, "**`POST /api/v1/generations`**"),
    "status": (PROJECT_PORT, "`GET /api/v1/generations/{id}` (status poll)"),
    "status_etag": (PROJECT_PORT, "the same poll with `If-None-Match` (304 when unchanged)"),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


def http_ok(port: int, path: str) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return bool(response.status < 500)


class Services:
    """Redis and (when no DATABASE_URL is given) PostgreSQL of this benchmark only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pg_data: Path | None = None
        self.pg_ctl = ""

    def start_redis(self) -> str:
        if os.environ.get("REDIS_URL"):
            return os.environ["REDIS_URL"]
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        self.procs.append(redis)
        wait_for(
            lambda: subprocess.run(
                ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, check=True
            ),
            "redis",
        )
        return f"redis://127.0.0.1:{REDIS_PORT}"

    def start_postgres(self) -> str:
        if os.environ.get("DATABASE_URL"):
            return os.environ["DATABASE_URL"]
        initdb = shutil.which("initdb") or next(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        self.pg_ctl = str(Path(initdb).with_name("pg_ctl"))
        self.pg_data = self.workdir / "pg"
        user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if user:
            shutil.chown(self.workdir, "postgres")
        subprocess.run(
            [*user, str(initdb), "-D", str(self.pg_data), "-U", "postgres", "-A", "trust"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {self.workdir}"
        options += " -c fsync=on -c max_connections=100"
        subprocess.run(
            [
                *user,
                self.pg_ctl,
                "-D",
                str(self.pg_data),
                "-o",
                options,
                "-w",
                "start",
                "-l",
                str(self.workdir / "pg.log"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._pg_user = user
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                "-q",
                "-c",
                "CREATE DATABASE imagegate_bench",
            ],
            check=True,
        )
        return f"postgres://postgres@127.0.0.1:{PG_PORT}/imagegate_bench"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        if self.pg_data is not None:
            subprocess.run(
                [*self._pg_user, self.pg_ctl, "-D", str(self.pg_data), "-m", "fast", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
            )


def project_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imagegate.settings.production",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", f"{redis_url}/0"),
        "REDIS_URL": redis_url if os.environ.get("REDIS_URL") else f"{redis_url}/1",
        "STRIPE_SECRET_KEY": "sk_test_benchmark",
        "STRIPE_IDENTITY_KEY": "rk_test_benchmark",
        "STRIPE_WEBHOOK_SECRET": "whsec_benchmark",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    return env


def gunicorn(
    app: str, port: int, env: dict[str, str], workers: int, logfile: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=logfile.open("ab"),
        stderr=subprocess.STDOUT,
    )


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def wait_quiet(limit: float, longest: float) -> float:
    """Wait (up to ``longest`` s) for the 1-minute load average to drop below ``limit``."""
    deadline = time.monotonic() + longest
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(1)
    return os.getloadavg()[0]


def run_wrk(
    lua_dir: Path, target: str, duration: int, threads: int, connections: int
) -> dict[str, Any]:
    port = TARGETS[target][0]
    script = lua_dir / f"{target}.lua"
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def versions() -> str:
    from importlib.metadata import version

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).split()[1] if (wrk.stdout + wrk.stderr) else "?"
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.split()[-1]
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    redis_version = next((p.split("=")[1] for p in redis.split() if p.startswith("v=")), "?")
    return (
        f"Python {platform.python_version()}, Django {version('Django')}, "
        f"DRF {version('djangorestframework')}, gunicorn {version('gunicorn')}, "
        f"PostgreSQL {pg}, Redis {redis_version}, wrk {wrk_version}"
    )


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {os.cpu_count()} CPU cores ({cpu}), {mem:.0f} GiB"


@contextlib.contextmanager
def servers(env: dict[str, str], workers: int, workdir: Path) -> Iterator[dict[str, int]]:
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare.settings"}
    procs = {
        "project": gunicorn("imagegate.wsgi", PROJECT_PORT, env, workers, workdir / "web.log"),
        "bare": gunicorn(
            "benchmarks.bare.wsgi", BARE_PORT, bare_env, workers, workdir / "bare.log"
        ),
    }
    try:
        wait_for(lambda: http_ok(PROJECT_PORT, "/healthz"), "project gunicorn", 120)
        wait_for(lambda: http_ok(BARE_PORT, "/hello"), "bare gunicorn", 60)
        yield {name: proc.pid for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)


def queue_overhead(env: dict[str, str], data: Path, *, own_broker: bool) -> Any:
    """Empty the benchmark's queue, start a GPU worker, time jobs one at a time."""
    if not own_broker:
        log("queue overhead skipped: REDIS_URL is not the benchmark's own Redis")
        return None
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "-n", "0", "FLUSHDB"], check=True)
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from generation.models import GenerationJob; "
         "GenerationJob.objects.filter(status='queued').update(status='canceled')"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip

    def celery_worker(queue: str, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "imagegate",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "--pool",
                "solo",
                "-n",
                f"{queue}@%h",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    # The deep check (the prompt classifiers) runs on the moderation queue before the GPU.
    workers = [
        celery_worker("gpu", {"IMAGEGATE_TORCH_THREADS": "1"}),
        celery_worker("moderation", {}),
    ]
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.queue",
                "--keys",
                str(data / "keys.txt"),
                "--base",
                f"http://127.0.0.1:{PROJECT_PORT}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            timeout=600,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else None
        log(f"queue overhead: {result}")
        return result
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=30)
            if worker.poll() is None:
                worker.kill()


def ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="1 round of 5 s (a smoke run)")
    parser.add_argument("--label", default="", help="a note printed with the results")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds = 5, 1
    if shutil.which("wrk") is None:
        print("wrk is not installed (make bench installs it: apt-get install wrk)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="imagegate-bench-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - the postgres user runs the cluster in it
    services = Services(workdir)
    try:
        redis_url = services.start_redis()
        database_url = services.start_postgres()
        env = project_env(database_url, redis_url)
        log(f"database {database_url.rsplit('@', 1)[-1]}, redis {redis_url}")
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "moderation_policy_refresh")
        bare_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare.settings"}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--verbosity", "0"],
            cwd=ROOT,
            env=bare_env,
            check=True,
        )
        data = workdir / "data"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.fixtures",
                "--users",
                str(args.users),
                "--out",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        for name, body in LUA.items():
            (data / f"{name}.lua").write_text(LUA_COMMON % {"dir": data} + body)
        counts = json.loads(
            subprocess.run(
                [sys.executable, "-m", "benchmarks.counts", "--keys", str(data / "keys.txt")],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout.splitlines()[-1]
        )
        log(f"per submit: {counts['sql']} SQL statements, {counts['redis']} Redis round trips")
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in TARGETS}
        with servers(env, args.workers, workdir) as pids:
            log("warm-up")
            for name in TARGETS:
                run_wrk(data, name, 2, args.threads, args.connections)
            project_workers = worker_pids(pids["project"])
            rss_warm = max(rss_mb(pid) for pid in project_workers)
            for round_no in range(args.rounds):
                for name in TARGETS:
                    load = wait_quiet(1.0, 20)
                    result = run_wrk(data, name, args.duration, args.threads, args.connections)
                    result["load"] = load
                    results[name].append(result)
                    log(
                        f"round {round_no + 1} {name}: {result['rps']:.0f} req/s, "
                        f"p50 {ms(result['p50_us'])}, p99 {ms(result['p99_us'])}, "
                        f"errors {result['errors']}, non-2xx {result['non_2xx']}, load {load:.2f}"
                    )
            probe = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.probe",
                    "--base",
                    f"http://127.0.0.1:{PROJECT_PORT}",
                    "--keys",
                    str(data / "keys.txt"),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            log(f"probe: {probe.stdout.strip()[-300:]} {probe.stderr.strip()[-300:]}")
            project_workers = worker_pids(pids["project"])
            rss_after = max(rss_mb(pid) for pid in project_workers)
            torch_mapped = any(maps_torch(pid) for pid in project_workers)
            try:
                queued = queue_overhead(env, data, own_broker=not os.environ.get("REDIS_URL"))
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                log(f"queue overhead not measured: {exc!r}")
                queued = None
        section = render(args, results, counts, rss_warm, rss_after, torch_mapped, queued, env=env)
        print(section)
        if not args.no_write:
            write_section(BEGIN, END, section)
        return 0
    finally:
        services.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def render(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, Any]]],
    counts: dict[str, Any],
    rss_warm: float,
    rss_after: float,
    torch_mapped: bool,
    queued: Any,
    env: dict[str, str],
) -> str:
    def med(name: str, field: str) -> float:
        return statistics.median(r[field] for r in results[name])

    insert_rps = med("insert", "rps")
    rows = []
    for name, (_, label) in TARGETS.items():
        rps = med(name, "rps")
        errors = sum(r["errors"] + r["non_2xx"] for r in results[name])
        if name == "submit":
            per_round = [
                s["rps"] / i["rps"]
                for s, i in zip(results["submit"], results["insert"], strict=True)
            ]
            ratio = statistics.median(per_round)
            p99 = med(name, "p99_us") / 1000
            ok = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS and errors == 0
            note = (
                f"ratio **{ratio:.2f}** to bare insert (each round: "
                f"{', '.join(f'{r:.2f}' for r in per_round)}; target ≥ {TARGET_RATIO:.2f}, "
                f"p99 ≤ {TARGET_P99_MS:.0f} ms, 0 errors) {'✓' if ok else '✗'}"
            )
        elif name == "insert":
            note = "the baseline of the ratio"
        else:
            note = f"{rps / insert_rps:.2f}× bare insert"
        all_rps = ", ".join(f"{r['rps']:.0f}" for r in results[name])
        rows.append(
            f"| {label} | {rps:.0f} ({all_rps}) | {ms(med(name, 'p50_us'))} | "
            f"{ms(med(name, 'p99_us'))} | {errors} | {note} |"
        )
    moderation = counts["moderation"]
    layer_rows = [
        f"| {layer} | {v['p50']:.2f} ms | {v['p99']:.2f} ms |" for layer, v in moderation.items()
    ]
    deep = counts.get("deep_check") or {"layers": {}, "prompts_per_s": 0.0}
    deep_rows = [
        f"| {layer} | {v['p50']:.2f} ms | {v['p99']:.2f} ms |"
        for layer, v in deep["layers"].items()
    ]
    stage = counts.get("classifier_stage", "request")
    in_request = (
        "normalisation and rules; the classifiers run in the deep check"
        if stage == "queue"
        else "the whole text path, classifiers included"
    )
    loads = [r["load"] for rs in results.values() for r in rs]
    lines = [
        BEGIN,
        "## Submit path against the machine's ceiling",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `make bench` "
        f"(`python -m benchmarks.http`) on {machine()}; {versions()}.",
        f"gunicorn {args.workers} sync workers each for the project (production settings) and "
        f"for the bare DRF app of `benchmarks/bare`, one PostgreSQL and one Redis; wrk "
        f"{args.threads} threads × {args.connections} connections × {args.duration} s, "
        f"{args.rounds} interleaved rounds (hello, insert, submit, status, status with ETag), "
        f"{args.users} subscribers with API keys, the ordinary prompts of "
        "`benchmarks/fixtures.py` that the policy allows. "
        f"1-minute load average at the start of the runs: {min(loads):.2f}–{max(loads):.2f}.",
        *([f"Note: {args.label}"] if args.label else []),
        "",
        "| target | req/s median (each round) | p50 | p99 | errors + non-2xx | ratio and target |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Per submit, counted in-process over {counts['samples']} submits of an allowed "
        f"prompt: **SQL statements per submit: {counts['sql']}** "
        f"({counts['sql_detail']}); **Redis round trips per submit: {counts['redis']}** "
        f"({counts['redis_detail']}). `tests/generation/test_submit_cost.py` fails when "
        "a submit issues more statements than this.",
        "",
        f"Web worker RSS after warm-up: {rss_warm:.0f} MB; after the runs and a request "
        f"to every API route (provenance verify included): {rss_after:.0f} MB; libtorch "
        f"mapped in a web worker: {'**yes**' if torch_mapped else 'no'}.",
        "",
        f"Prompt moderation in the request (`MODERATION_CLASSIFIER_STAGE={stage}`: "
        f"{in_request}), per layer ({moderation_count(counts)} ordinary prompts, one "
        f"thread): {counts['prompts_per_s']:.0f} prompts/s.",
        "",
        "| layer | p50 | p99 |",
        "|---|---|---|",
        *layer_rows,
        "",
        f"The deep check's text path (what a moderation worker process runs per prompt: "
        f"normalisation, rules, MiniLM windows, the multilingual head; the same prompts, one "
        f"thread): {deep['prompts_per_s']:.0f} prompts/s per worker process.",
        "",
        "| layer | p50 | p99 |",
        "|---|---|---|",
        *deep_rows,
    ]
    if queued:
        check = (
            f" Of it, the deep check (job queued → handed to the GPU queue by an idle "
            f"moderation worker): p50 {queued['check_p50']:.1f} ms, "
            f"p99 {queued['check_p99']:.1f} ms."
            if queued.get("check_p50") is not None
            else ""
        )
        lines += [
            "",
            f"Queue overhead (job queued → started by an idle GPU worker, {queued['n']} jobs "
            f"one at a time, 64×64, 1 step): p50 {queued['p50']:.1f} ms, "
            f"p99 {queued['p99']:.1f} ms.{check}",
        ]
    lines.append(END)
    return "\n".join(lines)


def moderation_count(counts: dict[str, Any]) -> int:
    return int(counts.get("moderation_prompts", 0))


if __name__ == "__main__":
    raise SystemExit(main())
