"""Touch the API routes that load the most code (provenance verify with a real image).

    python -m benchmarks.probe --base http://127.0.0.1:8201 --keys KEYS.txt

Run against the benchmark's web server before its workers' RSS is read, so that the
number covers what a web worker loads when asked anything, not only the hot path.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import requests
from PIL import Image


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--times", type=int, default=8, help="requests per route")
    args = parser.parse_args()
    key = args.keys.read_text().split()[0]
    headers = {"Authorization": f"Bearer {key}"}
    png = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 160, 200)).save(png, format="PNG")
    statuses = []
    for _ in range(args.times):  # several times: each gunicorn worker should see them
        for path in ("/api/v1/me", "/api/v1/models", "/api/v1/generations", "/api/v1/schema/"):
            statuses.append(requests.get(args.base + path, headers=headers, timeout=30).status_code)
        response = requests.post(
            args.base + "/api/v1/provenance/verify",
            headers=headers,
            files={"image": ("probe.png", png.getvalue(), "image/png")},
            timeout=60,
        )
        statuses.append(response.status_code)
    print("statuses", sorted(set(statuses)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
