"""Moderation tasks, on the ``moderation`` queue (routed by name)."""

from __future__ import annotations

from celery import shared_task

from moderation.services import CHECK_PROMPT_QUEUE, CHECK_PROMPT_TASK, prompt_check_async


@shared_task(name=CHECK_PROMPT_TASK, queue=CHECK_PROMPT_QUEUE, ignore_result=True, acks_late=True)
def check_prompt_async(job_id: str, decision_id: str) -> None:
    """The deep check of a job's prompt before the GPU: the text classifiers (when the
    request deferred them) and the external API (when configured); hands the job to
    the GPU, to review or to a block (``moderation.services.prompt_check_async``).

    ``acks_late``: a worker killed mid-check leaves the message to be redelivered, and
    the check records each layer once, so running it again is a no-op.
    """
    prompt_check_async(decision_id=decision_id, job_id=job_id)
