"""The GPU task and the periodic sweeper; the rules live in ``generation.attempts``.

``generation.run_job`` acknowledges late and is re-queued if its worker dies, so a
killed worker never loses a job. It claims its row with a conditional update that hands
the attempt a fencing token, so a re-delivered message for a job that another worker
holds (or that has finished, or that waits for its prompt check) is a no-op. While
running, the worker renews the lease with its token: after every step during
generation, and from a thread during the phases without steps (model load, output
moderation). Every write of the attempt is conditional on the token, so a worker that
lost its job (paused past the lease, cut off) changes nothing and stops. The periodic
sweeper takes jobs back from workers whose lease ran out and
re-sends queued jobs whose message may have been lost (``generation.attempts``).
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from generation.attempts import (
    Attempt,
    OutputVerdict,
    StaleAttempt,
    attempt_cancel,
    attempt_claim,
    attempt_conclude,
    attempt_fail,
    attempt_fail_or_requeue,
    attempt_renew,
    attempt_should_stop,
    jobs_recover_expired,
    jobs_redispatch,
    lease_kept,
    with_fresh_connection,
)
from generation.files import orphan_files_delete, store_images
from generation.models import GenerationJob, JobStatus

logger = logging.getLogger(__name__)


@shared_task(
    name="generation.run_job",
    queue="gpu",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,
)
def run_generation(self: Any, job_id: str) -> str:
    """Render one job. Returns the job's final status (for logs only)."""
    worker = f"{socket.gethostname()}:{self.request.hostname or ''}"
    attempt = with_fresh_connection(lambda: attempt_claim(job_id=job_id, worker=worker))
    if attempt is None:
        status = GenerationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        logger.info("job %s not claimable (status %s): nothing to do", job_id, status)
        return str(status)
    try:
        return _run_attempt(self, attempt)
    except StaleAttempt:
        # Another worker (or the sweeper) holds the job now: this one stops, writing nothing.
        logger.warning("job %s: attempt %s lost its job; stopping", job_id, attempt.number)
        return "stale"


def _run_attempt(task: Any, attempt: Attempt) -> str:
    from generation.catalog import all_models
    from generation.engine.backend import GenerationCanceled, default_cache

    job = GenerationJob.objects.select_related("user").get(pk=attempt.job_id)
    timings: dict[str, float] = {}
    started = time.monotonic()

    def on_step(step: int, total: int) -> None:
        attempt_renew(attempt=attempt, step=step, total=total)

    def should_cancel() -> bool:
        return attempt_should_stop(attempt=attempt)

    try:
        spec = all_models()[job.model_id]
        cache = default_cache(settings.IMAGEGATE_TORCH_THREADS)
        load_started = time.monotonic()
        with lease_kept(attempt) as lost:
            cache.get(spec)
        if lost.is_set():
            raise StaleAttempt(f"job {attempt.job_id} was taken away during model load")
        timings["load_s"] = round(time.monotonic() - load_started, 3)
        gen_started = time.monotonic()
        images = cache.generate(
            spec,
            job.prompt,
            negative_prompt=job.negative_prompt,
            width=job.width,
            height=job.height,
            steps=job.steps,
            guidance_scale=job.guidance_scale,
            seed=job.seed,
            num_images=job.num_images,
            on_step=on_step,
            should_cancel=should_cancel,
        )
        timings["generate_s"] = round(time.monotonic() - gen_started, 3)
    except (StaleAttempt, SoftTimeLimitExceeded, GenerationCanceled) as exc:
        if isinstance(exc, StaleAttempt):
            raise
        if isinstance(exc, SoftTimeLimitExceeded):
            attempt_fail(attempt=attempt, error="Timed out.", timings=timings)
            return JobStatus.FAILED
        # should_cancel() is also true when the attempt lost its job: then nothing moves.
        if not attempt_cancel(attempt=attempt, timings=timings):
            raise StaleAttempt(f"job {attempt.job_id} was taken away") from None
        return JobStatus.CANCELED
    except Exception as exc:
        logger.exception("generation %s failed on attempt %s", attempt.job_id, attempt.number)
        return _fail_or_retry(task, attempt, f"{type(exc).__name__}: {exc}")

    return _moderate_and_store(attempt, job, images, timings, started)


def _moderate_and_store(
    attempt: Attempt,
    job: GenerationJob,
    images: list[Any],
    timings: dict[str, float],
    started: float,
) -> str:
    import io

    from moderation.services import output_moderate

    raw: list[bytes] = []
    for img in images:
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        raw.append(buffer.getvalue())
    attempt_renew(attempt=attempt, stage="checking")
    moderation_started = time.monotonic()
    with lease_kept(attempt) as lost:  # the classifiers may load now: no steps renew
        decision = output_moderate(job=job, images=raw)
    if lost.is_set():
        raise StaleAttempt(f"job {attempt.job_id} was taken away during output moderation")
    timings["output_moderation_s"] = round(time.monotonic() - moderation_started, 3)
    statement = getattr(decision, "statement", None)
    verdict = OutputVerdict(
        decision=str(getattr(decision, "decision", "allow")),
        category=getattr(decision, "category", "") or "",
        severity=int(getattr(decision, "severity", 1) or 1),
        statement_id=statement.pk if statement is not None else None,
        source=decision,
    )
    attempt_renew(attempt=attempt, stage="storing")
    store_started = time.monotonic()

    def store(locked: GenerationJob) -> list[Any]:
        stored = store_images(locked, images)
        timings["provenance_store_s"] = round(time.monotonic() - store_started, 3)
        timings["total_s"] = round(time.monotonic() - started, 3)
        return stored

    final, stored = attempt_conclude(attempt=attempt, verdict=verdict, timings=timings, store=store)
    logger.info("job %s: %s with %d image(s)", job.pk, final, len(stored))
    return final


def _fail_or_retry(task: Any, attempt: Attempt, error: str) -> str:
    """Record the failure (on a fresh connection if the error broke this one), then
    re-send the job while attempts remain."""
    outcome = attempt_fail_or_requeue(attempt=attempt, error=error)
    if outcome is None:
        raise StaleAttempt(f"job {attempt.job_id} was taken away")
    if outcome == JobStatus.QUEUED:
        raise task.retry(countdown=min(60, 5 * attempt.number), exc=None)
    return outcome


@shared_task(name="generation.sweep_stuck_jobs", queue="default", ignore_result=True)
def sweep_stuck_jobs() -> dict[str, int]:
    """Take back jobs whose worker stopped renewing the lease, and re-send queued jobs
    whose message may have been lost (``generation.attempts``)."""
    counts = {**jobs_recover_expired(), **jobs_redispatch()}
    if any(counts.values()):
        logger.warning("sweep: %s", counts)
    return counts


@shared_task(name="generation.sweep_orphan_files", queue="default", ignore_result=True)
def sweep_orphan_files() -> int:
    """Delete image files that no row refers to, after a grace period (``generation.files``)."""
    return orphan_files_delete()
