from celery import signals
from django.apps import AppConfig
from django.core import checks

from core import (
    gcfreeze,
    stripe_client,  # noqa: F401  (declares its up-call, checked below)
)
from core.logging import job_context_end, job_context_start
from core.upcalls import check_upcalls_provided


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Logging context only (no business logic): a job's task logs carry its id.
        signals.task_prerun.connect(job_context_start, weak=False)
        signals.task_postrun.connect(job_context_end, weak=False)
        # What the first request or task loads is frozen out of the collector's way.
        gcfreeze.install()
        # Every up-call a lower app declares has its handler (core/upcalls.py).
        checks.register(check_upcalls_provided)
