"""Web-process CPU per submit, measured in-process (no HTTP server, no load tool).

    python -m benchmarks.cpu --keys KEYS.txt [--submits 300] [--profile 40]

Run from the repository root with the project's settings against a database seeded by
``python -m benchmarks.fixtures``. Every submit of an allowed prompt goes through
Django's test client (the whole middleware stack, DRF, the service); ``time.process_time``
around each gives the CPU the web process spends on it, database client and Redis client
included. Prints one JSON line: CPU p50/p90 per submit, and SQL statements and Redis round
trips per submit (counted on separate submits, so the counting costs no measured time).
``--profile N`` adds the functions that took the most CPU (cumulative) over N more
submits, through ``cProfile``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", type=int, default=0, help="profile this many more submits")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--profile-out", type=Path, help="also write the pstats file here")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.production")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.counts import RedisCounter
    from benchmarks.fixtures import prompts
    from benchmarks.fixtures import submit as submit_request

    keys = args.keys.read_text().split()
    texts = prompts()
    client = Client()
    counter = iter(range(10**9))

    def submit() -> Any:
        return submit_request(client, texts, keys, next(counter))

    for _ in range(args.warmup):
        submit()
    cpu_ms = []
    for _ in range(args.submits):
        start = time.process_time()
        submit()
        cpu_ms.append((time.process_time() - start) * 1000)
    cpu_ms.sort()
    sql, redis = [], []
    for _ in range(10):
        redis_counter = RedisCounter()
        with CaptureQueriesContext(connection) as queries, redis_counter.counting():
            submit()
        sql.append(len(queries.captured_queries))
        redis.append(redis_counter.round_trips)
    result: dict[str, Any] = {
        "tree": str(ROOT),
        "submits": args.submits,
        "cpu_ms_p50": round(statistics.median(cpu_ms), 3),
        "cpu_ms_p90": round(cpu_ms[int(len(cpu_ms) * 0.9)], 3),
        "cpu_ms_mean": round(statistics.fmean(cpu_ms), 3),
        "sql_per_submit": int(statistics.median(sql)),
        "sql_last": [q["sql"][:110] for q in queries.captured_queries],
        "redis_round_trips_per_submit": int(statistics.median(redis)),
    }
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.profile):
            submit()
        profiler.disable()
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue(), file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
