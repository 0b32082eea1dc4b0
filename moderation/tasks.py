"""Moderation tasks, on the ``moderation`` queue (routed by name)."""

from __future__ import annotations

from celery import shared_task

from moderation.services import CHECK_PROMPT_QUEUE, CHECK_PROMPT_TASK, prompt_check_external


@shared_task(name=CHECK_PROMPT_TASK, queue=CHECK_PROMPT_QUEUE, ignore_result=True, acks_late=True)
def check_prompt_async(job_id: str, decision_id: str) -> None:
    """The external API check of an allowed prompt; hands the job to the GPU, to
    review or to a block (``moderation.services.prompt_check_external``)."""
    prompt_check_external(decision_id=decision_id, job_id=job_id)
