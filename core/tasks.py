from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat


@shared_task(name="core.heartbeat", queue="default", ignore_result=True)
def heartbeat(hostname: str | None = None) -> None:
    """Record that a worker is alive; idempotent (one row per host)."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname or socket.gethostname(), defaults={"seen_at": timezone.now()}
    )
