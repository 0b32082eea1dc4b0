"""What one submit costs, counted (not timed) in-process; and the moderation layers timed.

    python -m benchmarks.counts --keys KEYS.txt [--samples 30]

Prints one JSON line: SQL statements and Redis round trips per submit of an allowed
prompt (the median over ``--samples`` submits after two warm-up ones), which statements
and commands they are, and the per-layer p50/p99 of the prompt check in the request and
in the deep check (the moderation queue).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# The first bulk string of each RESP array: the command's name.
COMMAND_NAME = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")


class RedisCounter:
    """Counts round trips (packed sends) and the commands they carried."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.commands: collections.Counter[str] = collections.Counter()

    @contextmanager
    def counting(self) -> Iterator[RedisCounter]:
        from redis.connection import AbstractConnection

        send = AbstractConnection.send_packed_command
        counter = self

        def counted_send(conn: Any, command: Any, check_health: bool = True) -> Any:
            counter.round_trips += 1
            data = command if isinstance(command, bytes) else b"".join(command)
            for name in COMMAND_NAME.findall(data):
                counter.commands[name.decode().upper()] += 1
            return send(conn, command, check_health)

        AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            AbstractConnection.send_packed_command = send  # type: ignore[method-assign]


def statement_kind(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper()
    return "SAVEPOINT" if word in ("SAVEPOINT", "RELEASE") else word


def submit_costs(keys: list[str], samples: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.fixtures import prompts, submit

    client = Client()
    texts = prompts()
    sql_counts, redis_counts = [], []
    kinds: collections.Counter[str] = collections.Counter()
    commands: collections.Counter[str] = collections.Counter()
    for i in range(samples + 2):
        counter = RedisCounter()
        with CaptureQueriesContext(connection) as queries, counter.counting():
            response = submit(client, texts, keys, i)
        assert response.json()["status"] == "queued", response.content
        if i < 2:
            continue
        sql_counts.append(len(queries.captured_queries))
        redis_counts.append(counter.round_trips)
        kinds.update(statement_kind(q["sql"]) for q in queries.captured_queries)
        commands.update(counter.commands)
    n = len(sql_counts)
    return {
        "samples": n,
        "sql": int(statistics.median(sql_counts)),
        "sql_max": max(sql_counts),
        "sql_detail": ", ".join(f"{k} {v / n:g}" for k, v in kinds.most_common()),
        "redis": int(statistics.median(redis_counts)),
        "redis_detail": ", ".join(f"{k} {v / n:g}" for k, v in commands.most_common()),
    }


def moderation_layers(count: int) -> dict[str, Any]:
    """Per-layer timings of the text path where it runs: the request stage (what the web
    process runs under ``MODERATION_CLASSIFIER_STAGE``) and the deep check (the whole
    path with the classifiers, what a moderation worker runs per prompt)."""
    from benchmarks.fixtures import prompts
    from moderation.policy import policy_compiled, text_moderator
    from moderation.services import classifier_stage

    texts = prompts()[:count]

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * q))]

    def measure(classifiers: bool) -> dict[str, Any]:
        check = text_moderator(policy_compiled(), classifiers=classifiers).check
        check(texts[0])
        layers: dict[str, list[float]] = collections.defaultdict(list)
        start = time.perf_counter()
        for text in texts:
            verdict = check(text)
            for layer, value in verdict.timings_ms.items():
                layers[layer].append(value)
        elapsed = time.perf_counter() - start
        return {
            "prompts_per_s": len(texts) / elapsed,
            "layers": {
                layer: {"p50": pct(v, 0.5), "p99": pct(v, 0.99)} for layer, v in layers.items()
            },
        }

    stage = classifier_stage()
    request = measure(classifiers=stage == "request")
    deep = measure(classifiers=True)
    return {
        "moderation_prompts": len(texts),
        "classifier_stage": stage,
        "prompts_per_s": request["prompts_per_s"],
        "moderation": request["layers"],
        "deep_check": deep,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--prompts", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.production")
    import django

    django.setup()
    keys = args.keys.read_text().split()
    result = submit_costs(keys, args.samples) | moderation_layers(args.prompts)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
