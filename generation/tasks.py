"""The GPU task and the periodic sweeper; the rules live in ``generation.attempts``.

``generation.run_job`` acknowledges late and is re-queued if its worker dies, so a
killed worker never loses a job. It claims its row with a conditional update that hands
the attempt a fencing token, so a re-delivered message for a job that another worker
holds (or that has finished, or that waits for its prompt check) is a no-op. Once the
model is loaded it also claims compatible queued jobs (same model, size, steps and
guidance; ``IMAGEGATE_GPU_BATCH_SIZE`` images in all), each with an attempt of its own,
and renders them in one pipeline call (``generation.engine.backend.generate_batch``).
While running, the worker renews every lease of the batch with its tokens: after every
step during generation, and from a thread during the phases without steps (model load,
output moderation). Every write of an attempt is conditional on its token, so a worker
that lost a job (paused past the lease, cut off) changes nothing for it: a job alone
stops, a job in a batch is dropped from it. Each job is then moderated, stored and
settled on its own. The periodic sweeper takes jobs back from workers whose lease ran
out and re-sends queued jobs whose message may have been lost (``generation.attempts``).
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
import uuid
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
    attempts_claim_compatible,
    attempts_renew,
    jobs_recover_expired,
    jobs_redispatch,
    lease_kept,
    leases_kept,
    with_fresh_connection,
)
from generation.catalog import all_models
from generation.engine import backend  # torch and diffusers load lazily, inside it
from generation.files import orphan_files_delete, store_images
from generation.models import GenerationJob, JobStatus
from moderation import services as moderation_services

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
    """Render the job, with the compatible queued jobs batched into the same pipeline
    call. Returns the job's final status (for logs only)."""
    worker = f"{socket.gethostname()}:{self.request.hostname or ''}"
    attempt = with_fresh_connection(lambda: attempt_claim(job_id=job_id, worker=worker))
    if attempt is None:
        status = GenerationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        logger.info("job %s not claimable (status %s): nothing to do", job_id, status)
        return str(status)
    try:
        return _run_batch(self, attempt, worker)
    except StaleAttempt:
        # Another worker (or the sweeper) holds the job now: this one stops, writing nothing.
        logger.warning("job %s: attempt %s lost its job; stopping", job_id, attempt.number)
        return "stale"


class _Batch:
    """The attempts sharing one pipeline call, and which of them are still live.

    Every step renews all live leases at once and records the step on each job; a job
    whose user canceled is concluded canceled there (released; its images will be
    discarded), one whose attempt went stale is dropped, writing nothing. The pipeline
    stops when no job is left.
    """

    def __init__(self, lead: Attempt, lead_job: GenerationJob) -> None:
        self.lead = lead
        self.attempts = [lead]
        self.live = [lead]
        self.jobs = {lead.job_id: lead_job}
        self.timings: dict[str, Any] = {}
        self.outcomes: dict[str, str] = {}

    def add(self, attempts: list[Attempt]) -> None:
        if not attempts:
            return
        rows = GenerationJob.objects.select_related("user").filter(
            pk__in=[a.job_id for a in attempts]
        )
        self.jobs.update({str(job.pk): job for job in rows})
        self.attempts += attempts
        self.live += attempts

    def drop(self, attempt: Attempt, outcome: str) -> None:
        self.live.remove(attempt)
        self.outcomes[attempt.job_id] = outcome
        if outcome == "stale":
            logger.warning(
                "job %s: attempt %s lost its job; dropped from its batch",
                attempt.job_id,
                attempt.number,
            )

    def on_step(self, step: int, total: int) -> None:
        renewal = attempts_renew(attempts=self.live, step=step, total=total)
        for attempt in list(self.live):
            if attempt not in renewal.holding:
                self.drop(attempt, "stale")
            elif attempt in renewal.cancel_asked:
                canceled = attempt_cancel(attempt=attempt, timings=dict(self.timings))
                self.drop(attempt, JobStatus.CANCELED if canceled else "stale")

    def should_cancel(self) -> bool:
        return not self.live


def _run_batch(task: Any, lead: Attempt, worker: str) -> str:

    lead_job = GenerationJob.objects.select_related("user").get(pk=lead.job_id)
    batch = _Batch(lead, lead_job)
    timings = batch.timings
    started = time.monotonic()
    try:
        spec = all_models()[lead_job.model_id]
        cache = backend.default_cache(settings.IMAGEGATE_TORCH_THREADS)
        load_started = time.monotonic()
        with lease_kept(lead) as lost:
            cache.get(spec)
        if lost.is_set():
            raise StaleAttempt(f"job {lead.job_id} was taken away during model load")
        timings["load_s"] = round(time.monotonic() - load_started, 3)
        max_images = max(1, settings.IMAGEGATE_GPU_BATCH_SIZE)
        batch.add(
            with_fresh_connection(
                lambda: attempts_claim_compatible(
                    lead=lead_job, worker=worker, max_images=max_images
                )
            )
        )
        items = [
            backend.BatchItem(
                prompt=job.prompt,
                seed=job.seed,
                negative_prompt=job.negative_prompt,
                num_images=job.num_images,
            )
            for job in (batch.jobs[a.job_id] for a in batch.attempts)
        ]
        timings["batch"] = {
            "id": uuid.uuid4().hex,
            "jobs": len(items),
            "images": sum(item.num_images for item in items),
        }
        logger.info("batch %s: jobs %s", timings["batch"]["id"], [a.job_id for a in batch.attempts])
        batch.on_step(0, lead_job.steps)  # a cancel asked during the model load
        gen_started = time.monotonic()
        rendered = backend.generate_batch(
            cache,
            spec,
            items,
            width=lead_job.width,
            height=lead_job.height,
            steps=lead_job.steps,
            guidance_scale=lead_job.guidance_scale,
            on_step=batch.on_step,
            should_cancel=batch.should_cancel,
        )
        timings["generate_s"] = round(time.monotonic() - gen_started, 3)
    except StaleAttempt:  # the lead lost its job during the model load, before any batch
        raise
    except SoftTimeLimitExceeded:
        for attempt in list(batch.live):
            ended = attempt_fail(attempt=attempt, error="Timed out.", timings=dict(timings))
            batch.drop(attempt, JobStatus.FAILED if ended else "stale")
        return batch.outcomes.get(lead.job_id, JobStatus.FAILED)
    except backend.GenerationCanceled:
        # Every job of the batch was canceled (concluded at its step) or lost.
        return batch.outcomes.get(lead.job_id, JobStatus.CANCELED)
    except Exception as exc:
        logger.exception("generation %s failed on attempt %s", lead.job_id, lead.number)
        return _fail_or_retry_all(task, batch, f"{type(exc).__name__}: {exc}")

    images = dict(zip((a.job_id for a in batch.attempts), rendered, strict=True))
    with leases_kept(list(batch.live)) as lost_during:  # the classifiers may load now
        for attempt in list(batch.live):
            try:
                final = _moderate_and_store(
                    attempt,
                    batch.jobs[attempt.job_id],
                    images[attempt.job_id],
                    dict(timings),
                    started,
                    lost_during[attempt.job_id],
                )
            except StaleAttempt:
                final = "stale"
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:  # this job only: its neighbours still finish
                logger.exception("job %s failed after generation", attempt.job_id)
                final = _fail_or_send_again(batch, attempt, f"{type(exc).__name__}: {exc}")
            batch.drop(attempt, final)
    return batch.outcomes[lead.job_id]


def _moderate_and_store(
    attempt: Attempt,
    job: GenerationJob,
    images: list[Any],
    timings: dict[str, Any],
    started: float,
    lost: threading.Event,
) -> str:
    """Check the job's own images with its own prompt's indicators, then store them and
    settle the job in its own transaction."""
    raw: list[bytes] = []
    for img in images:
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        raw.append(buffer.getvalue())
    attempt_renew(attempt=attempt, stage="checking")
    moderation_started = time.monotonic()
    decision = moderation_services.output_moderate(job=job, images=raw)
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


def _fail_or_retry_all(task: Any, batch: _Batch, error: str) -> str:
    """The pipeline call failed: every live job of the batch fails or goes back to the
    queue per ``attempt_fail_or_requeue``. The lead is re-sent by retrying this task;
    the others by a new message each (their own may have been consumed already)."""
    lead_live = batch.lead in batch.live
    for attempt in [a for a in batch.live if a != batch.lead]:
        batch.drop(attempt, _fail_or_send_again(batch, attempt, error))
    if not lead_live:
        return batch.outcomes.get(batch.lead.job_id, "stale")
    return _fail_or_retry(task, batch.lead, error)


def _fail_or_send_again(batch: _Batch, attempt: Attempt, error: str) -> str:
    """``attempt_fail_or_requeue`` for one job of a batch; a re-queued job gets a new
    message (its own may have been consumed as a no-op while it was batched)."""
    outcome = attempt_fail_or_requeue(attempt=attempt, error=error)
    if outcome == JobStatus.QUEUED:
        _send_again(batch.jobs[attempt.job_id], countdown=min(60, 5 * attempt.number))
    return outcome or "stale"


def _fail_or_retry(task: Any, attempt: Attempt, error: str) -> str:
    """Record the failure (on a fresh connection if the error broke this one), then
    re-send the job while attempts remain."""
    outcome = attempt_fail_or_requeue(attempt=attempt, error=error)
    if outcome is None:
        raise StaleAttempt(f"job {attempt.job_id} was taken away")
    if outcome == JobStatus.QUEUED:
        raise task.retry(countdown=min(60, 5 * attempt.number), exc=None)
    return outcome


def _send_again(job: GenerationJob, *, countdown: int) -> None:
    try:
        run_generation.apply_async((str(job.pk),), priority=job.queue_priority, countdown=countdown)
    except Exception:  # the dispatch reconciler sends it (its dispatched_at was just set)
        logger.warning("job %s: could not re-send; the reconciler will", job.pk, exc_info=True)


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
