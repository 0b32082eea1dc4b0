"""Test settings: the base settings with fast hashing and per-run isolation.

Several test runs may share one PostgreSQL server and one Redis (CI, or developers
working side by side), so the test database name and the broker's key prefix carry
the run's id. A worker process started by a test receives the same values through
the environment (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os

from imagegate.settings.base import *  # noqa: F403
from imagegate.settings.base import CELERY_BROKER_URL, DATABASES, VAR_DIR

RUN_ID = os.environ.setdefault("IMAGEGATE_TEST_RUN_ID", str(os.getpid()))

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / f"test-media-{RUN_ID}")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = str(VAR_DIR / f"test-media-{RUN_ID}")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each test's own database state (rolled back after it) must not outlive it in a cache.
IMAGEGATE_REFERENCE_CACHE_SECONDS = 0.0

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a worker process can open the same database.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{RUN_ID}.sqlite3")}
else:
    _db["TEST"] = {"NAME": f"test_imagegate_{RUN_ID}"}
if os.environ.get("IMAGEGATE_WORKER_DB_NAME"):
    # A worker started by a test talks to that test's database.
    _db["NAME"] = os.environ["IMAGEGATE_WORKER_DB_NAME"]

CELERY_BROKER_KEY_PREFIX = f"imagegate-test-{RUN_ID}:"
CELERY_BROKER_FILESYSTEM_DIR = str(VAR_DIR / f"test-broker-{RUN_ID}")
TEST_BROKER_IS_REDIS = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
