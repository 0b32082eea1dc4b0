from __future__ import annotations

from celery import shared_task

from accountability.retention import purge_expired as purge


@shared_task(name="accountability.purge_expired", queue="default", ignore_result=True)
def purge_expired() -> dict[str, int]:
    """Periodic (beat): purge prompt logs and images past retention, except on hold."""
    result = purge()
    return {"prompt_logs": result.prompt_logs, "images": result.images}
