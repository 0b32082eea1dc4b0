"""The Celery application: queues, routing, serialisation and time limits.

Job state lives in the database, so results are ignored. Generation tasks
acknowledge late and are rejected (re-queued) when their worker dies, so a killed
worker never loses a job; the task itself claims its row with a conditional update,
so a re-delivered message is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")

app = Celery("imagegate")

QUEUES = ("default", "moderation", "gpu")


def _broker_options(settings: Any) -> dict[str, Any]:
    url: str = settings.CELERY_BROKER_URL
    options: dict[str, Any] = {"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT}
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_FILESYSTEM_DIR)
        (folder / "queue").mkdir(parents=True, exist_ok=True)
        (folder / "processed").mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(parents=True, exist_ok=True)
        options.update(
            control_folder=str(folder / "control"),
            data_folder_in=str(folder / "queue"),
            data_folder_out=str(folder / "queue"),
            processed_folder=str(folder / "processed"),
            store_processed=False,
        )
    elif url.startswith(("redis://", "rediss://")):
        # Plan priorities (pro before premium): 0 is served first.
        options["queue_order_strategy"] = "priority"
        options["priority_steps"] = list(range(10))
        if settings.CELERY_BROKER_KEY_PREFIX:
            options["global_keyprefix"] = settings.CELERY_BROKER_KEY_PREFIX
    return options


# kombu's Redis transport with one publishing client per channel (imagegate/broker.py).
REDIS_TRANSPORT = "imagegate.broker:Transport"


def build_config(settings: Any) -> dict[str, Any]:
    """The project's Celery configuration, computed from Django settings."""
    url: str = settings.CELERY_BROKER_URL
    return {
        "broker_url": url,
        "broker_transport": REDIS_TRANSPORT if url.startswith("redis://") else None,
        "broker_transport_options": _broker_options(settings),
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_soft_time_limit": settings.CELERY_SOFT_TIME_LIMIT,
        "task_time_limit": settings.CELERY_HARD_TIME_LIMIT,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "default",
        "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        # Every task names its queue; this route keeps the GPU task on ``gpu`` even when
        # sent by name.
        "task_routes": {"generation.run_job": {"queue": "gpu"}},
        "task_create_missing_queues": False,
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": getattr(settings, "CELERY_BEAT_SCHEDULE", {}),
    }


class _LazyDjangoConfig(Mapping[str, Any]):
    """Read by Celery on first use, after Django's settings are importable.

    A mapping, so that Celery looks settings up in it directly: each publish looks up a
    dozen settings this configuration leaves to Celery's defaults, and through the
    attribute interface every miss cost three exceptions.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            from django.conf import settings

            self._values = build_config(settings)
        return self._values

    def __getitem__(self, name: str) -> Any:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


app.config_from_object(_LazyDjangoConfig())
app.autodiscover_tasks()
