"""Queue overhead: a submitted job's wait from ``queued_at`` to ``started_at`` on an idle
GPU worker (one job at a time, tiny model, 64×64, 1 step), and within it the deep check
on an idle moderation worker (``queued_at`` to ``dispatched_at``, when the check handed
the job to the GPU queue).

    python -m benchmarks.queue --base http://127.0.0.1:8201 --keys KEYS.txt [--jobs 20]

Run by ``benchmarks.http`` with a Celery worker on the ``gpu`` queue and one on the
``moderation`` queue of the benchmark's own (emptied) broker; prints one JSON line with
p50/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.production")
    import django

    django.setup()
    from generation.models import GenerationJob

    key = args.keys.read_text().split()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    ids = []
    for i in range(args.jobs):
        body: dict[str, str | int] = {
            "prompt": f"a lighthouse at dawn, study {i}",
            "width": 64,
            "height": 64,
            "steps": 1,
        }
        response = requests.post(
            args.base + "/api/v1/generations", json=body, headers=headers, timeout=30
        )
        response.raise_for_status()
        job_id = response.json()["id"]
        ids.append(job_id)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = requests.get(
                f"{args.base}/api/v1/generations/{job_id}", headers=headers, timeout=30
            ).json()["status"]
            if status not in ("queued", "running"):
                break
            time.sleep(0.1)
    waits, checks = [], []
    for job in GenerationJob.objects.filter(pk__in=ids[2:]):  # 2 warm-up jobs
        if job.started_at is None or job.queued_at is None:
            continue
        waits.append((job.started_at - job.queued_at).total_seconds() * 1000)
        if job.dispatched_at is not None:
            checks.append((job.dispatched_at - job.queued_at).total_seconds() * 1000)
    waits.sort()
    checks.sort()
    if not waits:
        print(json.dumps(None))
        return 1

    def p99(values: list[float]) -> float:
        return values[min(len(values) - 1, int(len(values) * 0.99))]

    print(
        json.dumps(
            {
                "n": len(waits),
                "p50": waits[len(waits) // 2],
                "p99": p99(waits),
                "check_p50": checks[len(checks) // 2] if checks else None,
                "check_p99": p99(checks) if checks else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
