"""Machine instructions per submit in the web process, counted by Valgrind (callgrind).

    python -m benchmarks.instructions --data DIR [--submits 200] [--warmup 30]

A timed measure moves with the host: on the shared development machines CPU per submit
moved by a third between runs of the same tree minutes apart (docs/benchmarks.md), far
more than most single changes to the submit path. Instructions retired move far less
(runs of one tree agreed within 4%: each API key's ``last_used_at`` write, once a
minute, falls on different submits), so an A/B of a change to the web process's Python
is read here, and its effect on req/s in ``make bench``.

Runs the in-process submit of ``benchmarks.cpu`` (Django's test client, the whole
middleware stack, an allowed prompt by API key) under ``valgrind --tool=callgrind`` twice,
with ``warmup`` submits and then with ``warmup + submits``, and divides the difference by
``submits``: start-up and warm-up cancel out. The database and Redis are the project's
(``DATABASE_URL``, ``REDIS_URL``), seeded by ``python -m benchmarks.fixtures --out DIR``,
whose ``keys.txt`` and ``prompts.txt`` are read from ``DIR``. PostgreSQL's and Redis's
own work is not counted. Needs Debian's ``valgrind``; each run takes a minute or two.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _child(data: Path, total: int) -> int:
    """Inside Valgrind: ``total`` submits of allowed prompts, each asserted 202."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.production")
    import django

    django.setup()
    from django.test import Client

    from benchmarks.fixtures import submit

    keys = (data / "keys.txt").read_text().split()
    texts = (data / "prompts.txt").read_text().splitlines()
    client = Client()
    for index in range(total):
        submit(client, texts, keys, index)
    return 0


def _instructions(data: Path, total: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={scratch}/callgrind.out",
                sys.executable,
                "-m",
                "benchmarks.instructions",
                "--child",
                str(total),
                "--data",
                str(data),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the run under valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True, help="keys.txt and prompts.txt")
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _child(args.data, args.child)
    base = _instructions(args.data, args.warmup)
    loaded = _instructions(args.data, args.warmup + args.submits)
    print(
        json.dumps(
            {
                "submits": args.submits,
                "instructions_per_submit": round((loaded - base) / args.submits),
                "instructions_base": base,
                "instructions_with_submits": loaded,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
