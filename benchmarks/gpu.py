"""Images per second through the GPU worker's own code path, batching off and on, and
the platform's overhead as a share of the generation time.

    nice python -m benchmarks.gpu [--jobs 8] [--sizes 1,4,8] [--side 256] [--steps 4]
                                  [--no-write]

Needs a migrated database (``DATABASE_URL``); it makes a user ``bench-gpu@example.com``
on the benchmark plan there. Publishing goes to an in-memory broker: for each batch
size it submits ``--jobs`` compatible jobs (``generation_submit``), then runs
``generation.run_job`` in this process for each job in queue order, as one worker
receiving their messages would: the first message takes up to ``IMAGEGATE_GPU_BATCH_SIZE``
images into one pipeline call, and the messages of jobs already batched are no-ops (they
are timed too). The model is loaded and the output classifiers warmed before timing.

Generation time is the pipeline calls' time (``timings.generate_s`` of each batch) less
the lease renewals made from its step callback; the platform's overhead is everything
else the task does: claims, renewals, PNG encoding, output moderation, provenance and
storage, settlement, the no-op messages. Runs the first configured model (the tiny test
model unless ``IMAGEGATE_MODELS`` names a real one) on CUDA when available, else on CPU
with ``IMAGEGATE_TORCH_THREADS`` threads. Writes the "GPU batching" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_section  # noqa: E402

BEGIN, END = "<!-- benchmarks:gpu:begin -->", "<!-- benchmarks:gpu:end -->"
EMAIL = "bench-gpu@example.com"


@dataclass
class Run:
    size: int
    jobs: int
    calls: int
    wall_s: float
    generate_s: float
    renew_s: float
    moderation_s: float
    store_s: float
    statuses: dict[str, int]

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.generate_s


def bench_user() -> Any:
    """The benchmark's subscriber (plenty of credits), made once."""
    from django.utils import timezone

    from benchmarks.fixtures import bench_user_ensure
    from billing.credits import credits_balance, credits_grant
    from generation.models import GenerationJob, JobStatus
    from generation.services import generation_cancel

    user = bench_user_ensure(EMAIL, "gpu")
    if credits_balance(user=user).balance < 10_000:
        now = timezone.now()
        credits_grant(user=user, amount=100_000, reason="benchmark", reference=f"bench-gpu:{now}")
    # Jobs an interrupted run left queued would join this run's batches.
    for job_id in GenerationJob.objects.filter(user=user, status=JobStatus.QUEUED).values_list(
        "pk", flat=True
    ):
        generation_cancel(user=user, job_id=job_id)
    return user


def measure(user: Any, size: int, count: int, shape: dict[str, int], prompts: list[str]) -> Run:
    from django.conf import settings

    from generation import tasks
    from generation.models import GenerationJob
    from generation.services import GenerationRequest, generation_submit

    settings.IMAGEGATE_GPU_BATCH_SIZE = size
    jobs = [
        generation_submit(
            user=user,
            request=GenerationRequest(
                prompt=prompts[i % len(prompts)],
                seed=i,
                width=shape["width"],
                height=shape["height"],
                steps=shape["steps"],
            ),
        )
        for i in range(count)
    ]
    renew_in_steps = 0.0
    renew = tasks.attempts_renew

    def timed_renew(**kwargs: Any) -> Any:  # the step callback's share of generate_s
        nonlocal renew_in_steps
        started = time.perf_counter()
        try:
            return renew(**kwargs)
        finally:
            renew_in_steps += time.perf_counter() - started

    tasks.attempts_renew = timed_renew
    try:
        started = time.perf_counter()
        for job in jobs:
            tasks.run_generation(str(job.pk))
        wall_s = time.perf_counter() - started
    finally:
        tasks.attempts_renew = renew
    done = list(GenerationJob.objects.filter(pk__in=[job.pk for job in jobs]))
    batches = {job.timings["batch"]["id"]: job.timings["generate_s"] for job in done}
    statuses: dict[str, int] = {}
    for job in done:
        statuses[job.status] = statuses.get(job.status, 0) + 1
    return Run(
        size=size,
        jobs=count,
        calls=len(batches),
        wall_s=wall_s,
        generate_s=sum(batches.values()) - renew_in_steps,
        renew_s=renew_in_steps,
        moderation_s=sum(job.timings.get("output_moderation_s", 0.0) for job in done),
        store_s=sum(job.timings.get("provenance_store_s", 0.0) for job in done),
        statuses=statuses,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--sizes", default="1,4,8", help="batch sizes (images per call)")
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")
    os.environ["CELERY_BROKER_URL"] = "memory://"  # this process is the worker
    import django

    django.setup()
    import torch
    from django.conf import settings

    from benchmarks.fixtures import prompts
    from generation.catalog import all_models
    from generation.engine.backend import default_cache

    spec = next(iter(all_models().values()))
    default_cache(settings.IMAGEGATE_TORCH_THREADS).get(spec)
    user = bench_user()
    shape = {"width": args.side, "height": args.side, "steps": args.steps}
    allowed = prompts()
    measure(user, 1, 1, shape, allowed)  # warm-up: the output classifiers load here
    load = os.getloadavg()
    runs = [measure(user, int(size), args.jobs, shape, allowed) for size in args.sizes.split(",")]
    load_after = os.getloadavg()

    device = (
        f"CUDA {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available()
        else f"CPU ({os.cpu_count()} cores, torch threads = {settings.IMAGEGATE_TORCH_THREADS}),"
        " tiny model; no GPU was lent to this session"
    )
    base = runs[0]
    rows = []
    for run in runs:
        rest = run.overhead_s - run.moderation_s - run.store_s
        rows.append(
            f"| {run.size} | {run.calls} | {run.jobs / run.wall_s:.2f} "
            f"({(base.wall_s / run.wall_s):.2f}×) | {run.jobs / run.generate_s:.2f} | "
            f"{100 * run.overhead_s / run.generate_s:.0f}% | "
            f"{100 * run.moderation_s / run.generate_s:.0f}% | "
            f"{100 * run.store_s / run.generate_s:.0f}% | "
            f"{100 * rest / run.generate_s:.0f}% ({1000 * run.renew_s / run.jobs:.0f} ms "
            f"of renewals per job) | "
            + ", ".join(f"{n} {status}" for status, n in sorted(run.statuses.items()))
            + " |"
        )
    section = "\n".join(
        [
            BEGIN,
            "## GPU batching",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
            f"`nice python -m benchmarks.gpu` on {platform.node()}, {platform.machine()}, "
            f"{device}; torch {torch.__version__}; model `{spec.id}`; {args.jobs} jobs of "
            f"{args.side}×{args.side}, {args.steps} steps, one image each, per batch size. "
            f"Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start, "
            f"{load_after[0]:.1f} at the end (the cores were shared with other work).",
            "",
            "Through the worker's own task (`generation.run_job`, in-process, PostgreSQL, "
            "the real output classifiers and storage), one message per job in queue order. "
            "*Generation* is the pipeline calls less the lease renewals made from their "
            "step callback; *overhead* is everything else the task does, as a share of "
            "generation time: output moderation, provenance + storage (watermark, "
            "metadata, file, row), and the rest (claims, renewals, PNG encoding, "
            "settlement, the no-op messages of batched jobs).",
            "",
            "| batch size (images per call) | pipeline calls | images/s end to end | "
            "images/s, generation only | overhead | moderation | provenance + storage | "
            "rest | jobs |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            (
                "On a CPU the denoising is compute-bound: a batch computes its images one "
                "after another in all but name, so batching buys little here beyond fewer "
                "per-call costs (text encoder and VAE calls, scheduler set-up) and one "
                "renewal per step for the whole batch. What it is for, keeping a GPU's "
                "cores busy, needs a run on a GPU with a real model."
                if not torch.cuda.is_available()
                else "CUDA run."
            ),
            END,
        ]
    )
    print(section)
    if not args.no_write:
        write_section(BEGIN, END, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
