from __future__ import annotations

from celery import shared_task

from accountability.reports import report_notify_outcome, reports_notify_pending
from accountability.retention import purge_expired as purge


@shared_task(name="accountability.purge_expired", queue="default", ignore_result=True)
def purge_expired() -> dict[str, int]:
    """Periodic (beat): purge prompt logs and images past retention, except on hold."""
    result = purge()
    return {"prompt_logs": result.prompt_logs, "images": result.images}


@shared_task(
    name="accountability.notify_reporters", queue="default", ignore_result=True, acks_late=True
)
def notify_reporters(report_id: str) -> int:
    """Tell a decided report's notifiers the outcome (sent once the decision commits)."""
    return report_notify_outcome(report_id=report_id)


@shared_task(name="accountability.notify_reporters_pending", queue="default", ignore_result=True)
def notify_reporters_pending() -> int:
    """Periodic (beat): notices whose task was lost or whose mail failed, sent again."""
    return reports_notify_pending()
