from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Logging context only (no business logic): a job's task logs carry its id.
        from celery import signals

        from core.logging import job_context_end, job_context_start

        signals.task_prerun.connect(job_context_start, weak=False)
        signals.task_postrun.connect(job_context_end, weak=False)
