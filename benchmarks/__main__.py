"""Measure generation, provenance and the synchronous prompt check on this machine.

    python -m benchmarks [--quick]

Writes the "Generation and provenance" section of ``docs/benchmarks.md`` (between its
markers), with the machine and the date. Targets are checked here, never in unit tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_section  # noqa: E402

BEGIN, END = "<!-- benchmarks:generation:begin -->", "<!-- benchmarks:generation:end -->"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.machine()}, {cpus} CPU cores, no GPU, Python {platform.python_version()}"


def row(what: str, median: str, worst: str = "") -> str:
    return f"| {what} | {median} | {worst} |"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")
    import django

    django.setup()
    from django.conf import settings

    from generation.catalog import all_models
    from generation.engine.backend import PipelineCache
    from generation.engine.provenance import apply_provenance, inspect_image
    from moderation.policy import policy_compiled, text_moderator

    rows: list[str] = []
    cache = PipelineCache(num_threads=settings.IMAGEGATE_TORCH_THREADS)
    spec = next(iter(all_models().values()))
    load_start = time.perf_counter()
    cache.get(spec)
    load_s = time.perf_counter() - load_start
    rows.append(row(f"load `{spec.id}` (once per worker process)", f"{load_s:.2f} s"))
    images = {}
    for side, steps in ((256, 4), (256, 25), (512, 4), (512, 25)):

        def run(side: int = side, steps: int = steps) -> None:
            images[side] = cache.generate(
                spec, "a lighthouse", width=side, height=side, steps=steps, seed=1
            )[0]

        median, worst = timed(run, repeat)
        rows.append(
            f"| generate {side}×{side}, {steps} steps, 1 image | {median:.2f} s | {worst:.2f} s |"
        )
    for side in (256, 512):
        img = images[side]

        def mark(img: Any = img) -> bytes:
            return apply_provenance(
                img,
                image_id=uuid.uuid4(),
                generation_id=uuid.uuid4(),
                model_id="m",
                no_distribution=False,
            )

        median, worst = timed(mark, repeat)
        rows.append(row(f"provenance (watermark + metadata) {side}px", ms(median), ms(worst)))
        data = mark()

        def inspect(data: bytes = data) -> object:
            return inspect_image(data)

        median, worst = timed(inspect, repeat)
        rows.append(row(f"provenance verify (inspect) {side}px", ms(median), ms(worst)))
    check = text_moderator(policy_compiled()).check
    prompts = ["a watercolour lighthouse at dawn, highly detailed, artstation"] * 200
    durations = []
    for prompt in prompts:
        start = time.perf_counter()
        check(prompt)
        durations.append(time.perf_counter() - start)
    durations.sort()
    p50 = durations[len(durations) // 2]
    p99 = durations[int(len(durations) * 0.99) - 1]
    rows.append(row("synchronous prompt check, 200 prompts", f"p50 {ms(p50)}", f"p99 {ms(p99)}"))

    section = "\n".join(
        [
            BEGIN,
            "## Generation and provenance",
            "",
            f"Measured {dt.date.today().isoformat()} on {machine()} with `python -m benchmarks`;",
            f"tiny test model, torch threads = {settings.IMAGEGATE_TORCH_THREADS}.",
            "",
            "| what | median | worst |",
            "|---|---|---|",
            *rows,
            END,
        ]
    )
    write_section(BEGIN, END, section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
