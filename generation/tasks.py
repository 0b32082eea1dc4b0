"""The GPU task and the stuck-job sweeper.

``generation.run_job`` acknowledges late and is re-queued if its worker dies, so a
killed worker never loses a job. It claims its row with a conditional update, so a
re-delivered message for a job that another worker holds (or that has finished) is a
no-op. While running, the worker renews a lease on the row after every step; the
periodic sweeper re-queues a job whose lease ran out (its worker died) or, after
``max_attempts``, fails it and releases its credits. Credits are committed or
released through references that settle at most once, so nothing is charged twice.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from generation.models import GeneratedImage, GenerationJob, HoldStage, JobStatus

logger = logging.getLogger(__name__)


def lease_seconds() -> int:
    return int(getattr(settings, "GENERATION_LEASE_SECONDS", 60))


def _claim(job_id: str, worker: str) -> bool:
    """Take the job if it is queued, or running with an expired lease (its worker died)."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    claimed = GenerationJob.objects.filter(
        claimable, pk=job_id, attempts__lt=F("max_attempts")
    ).update(
        status=JobStatus.RUNNING,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        worker=worker,
        progress_step=0,
        updated_at=now,
    )
    return claimed == 1


def _image_key(job: GenerationJob, image_id: Any) -> str:
    return f"generations/{job.user_id}/{job.pk}/{image_id}.png"


def _store_images(job: GenerationJob, images: list[Any]) -> list[GeneratedImage]:
    """Apply provenance and store each image under its fixed key (idempotent on re-runs)."""
    import uuid

    from generation.engine.provenance import apply_provenance

    cert, key = _c2pa_credentials()
    stored: list[GeneratedImage] = []
    saved_keys: list[str] = []
    # A previous attempt's output (rows and files) is replaced, never left behind.
    for previous in job.images.all():
        default_storage.delete(previous.storage_key)
    job.images.all().delete()
    try:
        for index, img in enumerate(images):
            image_id = uuid.uuid4()
            data = apply_provenance(
                img,
                image_id=image_id,
                generation_id=job.pk,
                model_id=job.model_id,
                no_distribution=job.no_distribution,
                c2pa_cert=cert,
                c2pa_key=key,
            )
            saved_key = default_storage.save(_image_key(job, image_id), ContentFile(data))
            saved_keys.append(saved_key)
            stored.append(
                GeneratedImage.objects.create(
                    id=image_id,
                    job=job,
                    index=index,
                    width=img.width,
                    height=img.height,
                    sha256=hashlib.sha256(data).hexdigest(),
                    render_sha256=hashlib.sha256(img.convert("RGB").tobytes()).hexdigest(),
                    storage_key=saved_key,
                    has_watermark=min(img.width, img.height) >= 256,
                    has_c2pa=cert is not None,
                )
            )
    except BaseException:
        # The rows roll back with the transaction; the files must go with them.
        for saved_key in saved_keys:
            default_storage.delete(saved_key)
        raise
    return stored


def _c2pa_credentials() -> tuple[bytes | None, bytes | None]:
    from pathlib import Path

    cert_path, key_path = settings.C2PA_SIGNING_CERT, settings.C2PA_SIGNING_KEY
    if not cert_path or not key_path:
        return None, None
    return Path(cert_path).read_bytes(), Path(key_path).read_bytes()


def _finish(job_id: str, **fields: Any) -> None:
    fields.setdefault("finished_at", timezone.now())
    fields["lease_expires_at"] = None
    fields["updated_at"] = timezone.now()
    GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**fields)


def _release(job: GenerationJob, reason: str) -> None:
    from billing.credits import credits_release

    credits_release(reference=job.credit_reference, reason=reason)


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
    from generation.catalog import all_models
    from generation.engine.backend import GenerationCanceled, default_cache

    worker = f"{socket.gethostname()}:{self.request.hostname or ''}"
    if not _claim(job_id, worker):
        status = GenerationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        logger.info("job %s not claimable (status %s): nothing to do", job_id, status)
        return str(status)
    job = GenerationJob.objects.select_related("user").get(pk=job_id)
    timings: dict[str, float] = {}
    started = time.monotonic()
    last_renewal = 0.0

    def on_step(step: int, total: int) -> None:
        nonlocal last_renewal
        now = timezone.now()
        GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            progress_step=step,
            progress_total=total,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            updated_at=now,
        )
        last_renewal = time.monotonic()

    def should_cancel() -> bool:
        return bool(GenerationJob.objects.filter(pk=job_id, cancel_requested=True).exists())

    try:
        spec = all_models()[job.model_id]
        cache = default_cache(settings.IMAGEGATE_TORCH_THREADS)
        load_started = time.monotonic()
        cache.get(spec)
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
    except GenerationCanceled:
        with transaction.atomic():
            _finish(job_id, status=JobStatus.CANCELED, timings=timings)
            _release(job, "canceled")
        return JobStatus.CANCELED
    except SoftTimeLimitExceeded:
        with transaction.atomic():
            _finish(job_id, status=JobStatus.FAILED, error="Timed out.", timings=timings)
            _release(job, "failed")
        return JobStatus.FAILED
    except Exception as exc:
        logger.exception("generation %s failed on attempt %s", job_id, job.attempts)
        return _fail_or_retry(self, job, f"{type(exc).__name__}: {exc}")

    return _moderate_and_store(job, images, timings, started)


def _moderate_and_store(
    job: GenerationJob, images: list[Any], timings: dict[str, float], started: float
) -> str:
    import io

    from moderation.services import output_moderate

    raw: list[bytes] = []
    for img in images:
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        raw.append(buffer.getvalue())
    moderation_started = time.monotonic()
    decision = output_moderate(job=job, images=raw)
    timings["output_moderation_s"] = round(time.monotonic() - moderation_started, 3)
    store_started = time.monotonic()
    with transaction.atomic():
        stored = _store_images(job, images)
        timings["provenance_store_s"] = round(time.monotonic() - store_started, 3)
        timings["total_s"] = round(time.monotonic() - started, 3)
        outcome = getattr(decision, "decision", "allow")
        category = getattr(decision, "category", "") or ""
        if outcome == "allow":
            from billing.credits import credits_commit

            _finish(
                str(job.pk),
                status=JobStatus.SUCCEEDED,
                credits_charged=job.credits_reserved,
                progress_step=job.steps,
                timings=timings,
            )
            credits_commit(reference=job.credit_reference)
            final = JobStatus.SUCCEEDED
        elif outcome == "review":
            GenerationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.HELD_FOR_REVIEW,
                hold_stage=HoldStage.OUTPUT,
                moderation_category=category,
                lease_expires_at=None,
                timings=timings,
                updated_at=timezone.now(),
            )
            from accountability.review import review_item_open
            from generation.services import review_context

            review_item_open(
                kind="output",
                subject_type="generation.job",
                subject_id=str(job.pk),
                user=job.user,
                category=category,
                severity=int(getattr(decision, "severity", 1) or 1),
                context=review_context(job, decision),
            )
            final = JobStatus.HELD_FOR_REVIEW
        else:
            statement = getattr(decision, "statement", None)
            _finish(
                str(job.pk),
                status=JobStatus.BLOCKED,
                moderation_category=category,
                statement_id=statement.pk if statement is not None else None,
                timings=timings,
            )
            _release(job, "output_blocked")
            final = JobStatus.BLOCKED
    logger.info("job %s: %s with %d image(s)", job.pk, final, len(stored))
    return final


def _fail_or_retry(task: Any, job: GenerationJob, error: str) -> str:
    job.refresh_from_db(fields=["attempts", "max_attempts"])
    if job.attempts < job.max_attempts:
        GenerationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, lease_expires_at=None, error=error, updated_at=timezone.now()
        )
        raise task.retry(countdown=min(60, 5 * job.attempts), exc=None)
    with transaction.atomic():
        _finish(str(job.pk), status=JobStatus.FAILED, error=error)
        _release(job, "failed")
    return JobStatus.FAILED


@shared_task(name="generation.sweep_stuck_jobs", queue="default", ignore_result=True)
def sweep_stuck_jobs() -> dict[str, int]:
    """Find running jobs whose worker stopped renewing the lease: re-queue or fail them."""
    now = timezone.now()
    requeued = failed = 0
    stuck = GenerationJob.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    for job_id in list(stuck.values_list("pk", flat=True)):
        with transaction.atomic():
            job = (
                GenerationJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=JobStatus.RUNNING, lease_expires_at__lt=now)
                .first()
            )
            if job is None:
                continue
            if job.attempts < job.max_attempts:
                job.status = JobStatus.QUEUED
                job.lease_expires_at = None
                job.queued_at = now
                job.error = "Worker stopped; re-queued."
                job.save(update_fields=["status", "lease_expires_at", "queued_at", "error"])
                from generation.services import generation_enqueue_on_commit

                generation_enqueue_on_commit(job)
                requeued += 1
            else:
                job.status = JobStatus.FAILED
                job.lease_expires_at = None
                job.finished_at = now
                job.error = f"Worker stopped {job.attempts} times; giving up."
                job.save(update_fields=["status", "lease_expires_at", "finished_at", "error"])
                _release(job, "failed")
                failed += 1
    # Queued jobs whose message was lost (e.g. the broker restarted) are sent again.
    stale = now - timedelta(seconds=max(600, settings.CELERY_VISIBILITY_TIMEOUT))
    resent = 0
    for job in GenerationJob.objects.filter(status=JobStatus.QUEUED, queued_at__lt=stale):
        from generation.services import generation_enqueue_on_commit

        with transaction.atomic():
            GenerationJob.objects.filter(pk=job.pk).update(queued_at=now)
            generation_enqueue_on_commit(job)
        resent += 1
    if requeued or failed or resent:
        logger.warning("stuck jobs: %d re-queued, %d failed, %d re-sent", requeued, failed, resent)
    return {"requeued": requeued, "failed": failed, "resent": resent}
