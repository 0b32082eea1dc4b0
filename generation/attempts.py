"""The job state machine on the worker's side: attempts, fencing, recovery, dispatch.

A GPU worker's run of a job is an *attempt*. Claiming a job gives the attempt a fresh
fencing token (``GenerationJob.attempt_token``); every later write of that attempt —
progress, lease renewal, cancel, failure, images and settlement — is a conditional
update on ``(pk, status=running, attempt_token=token)``. When the sweeper takes a job
away from a worker whose lease ran out (it died, was paused or was cut off), it clears
the token; when another worker claims it, the token changes. Either way the old worker's
writes match no row, it raises :class:`StaleAttempt` and stops: it can neither charge,
release, store images nor move the job.

Credits are settled in the same transaction as the transition that decides them, and
only when that transition changed a row, so a job is charged only if it succeeded and
released only if it ended otherwise (the ledger's references make each settlement
happen at most once besides).

The dispatch reconciler re-sends queued jobs whose message may have been lost (broker
restarted empty, publish failed after commit), oldest first within each priority and
without touching ``queued_at``, so a job keeps its place. A job that waits for the
asynchronous prompt check is re-sent to that check, never to the GPU.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, Q, UUIDField, Value, When
from django.utils import timezone

from accountability.review import review_item_open
from billing.credits import credits_commit, credits_release
from generation.models import GeneratedImage, GenerationJob, HoldStage, JobStatus
from generation.services import generation_enqueue_on_commit, review_context
from moderation.tasks import check_prompt_async

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StaleAttempt(Exception):
    """This attempt no longer holds its job: its writes are refused and it must stop."""


@dataclass(frozen=True)
class Attempt:
    job_id: str
    token: uuid.UUID
    number: int


def lease_seconds() -> int:
    return int(getattr(settings, "GENERATION_LEASE_SECONDS", 60))


def dispatch_resend_seconds() -> int:
    return int(getattr(settings, "GENERATION_DISPATCH_RESEND_SECONDS", 60))


# --- database blips -------------------------------------------------------------------


def with_fresh_connection(work: Callable[[], T], *, tries: int = 3, pause: float = 0.5) -> T:
    """Run ``work``; if the database connection is broken, close it and try again on a
    fresh one (up to ``tries`` times), so a blip does not cost an attempt.

    Only for work outside any transaction (autocommit): inside one the connection
    cannot be replaced, and the error is raised at once.
    """
    for left in range(tries - 1, -1, -1):
        try:
            return work()
        except (OperationalError, InterfaceError):
            if left == 0 or connection.in_atomic_block:
                raise
            logger.warning("database connection lost; retrying on a fresh one", exc_info=True)
            connection.close()
            time.sleep(pause)
    raise AssertionError("unreachable")


def _attempt_rows(attempt: Attempt) -> Any:
    return GenerationJob.objects.filter(
        pk=attempt.job_id, status=JobStatus.RUNNING, attempt_token=attempt.token
    )


# --- the attempt ----------------------------------------------------------------------


def attempt_claim(*, job_id: str, worker: str) -> Attempt | None:
    """Take the job for a new attempt with a fresh fencing token, or ``None``.

    Claimable: queued and not waiting for the asynchronous prompt check, or running
    with an expired lease (its worker stopped renewing), while attempts remain.
    """
    now = timezone.now()
    token = uuid.uuid4()
    claimable = Q(status=JobStatus.QUEUED, awaiting_check=False) | Q(
        status=JobStatus.RUNNING, lease_expires_at__lt=now
    )
    claimed = GenerationJob.objects.filter(
        claimable, pk=job_id, attempts__lt=F("max_attempts"), cancel_requested=False
    ).update(
        status=JobStatus.RUNNING,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        attempt_token=token,
        worker=worker,
        progress_step=0,
        updated_at=now,
    )
    if claimed != 1:
        return None
    number = GenerationJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()
    return Attempt(job_id=str(job_id), token=token, number=int(number))


def attempt_renew(
    *,
    attempt: Attempt,
    step: int | None = None,
    total: int | None = None,
    stage: str | None = None,
) -> None:
    """Extend the attempt's lease (and record progress); StaleAttempt if it lost the job.

    ``stage`` names what the attempt does after the last step (``checking`` the images,
    ``storing`` them) for the progress page; it is kept in ``timings`` until the attempt
    concludes and writes its real timings there.
    """

    def renew() -> int:
        now = timezone.now()
        fields: dict[str, Any] = {
            "lease_expires_at": now + timedelta(seconds=lease_seconds()),
            "updated_at": now,
        }
        if step is not None:
            fields["progress_step"] = step
        if total is not None:
            fields["progress_total"] = total
        if stage is not None:
            fields["timings"] = {"stage": stage}
        return int(_attempt_rows(attempt).update(**fields))

    if with_fresh_connection(renew) != 1:
        raise StaleAttempt(f"attempt {attempt.number} of job {attempt.job_id} lost its job")


# --- batches: compatible jobs sharing one pipeline call --------------------------------


def attempts_claim_compatible(
    *, lead: GenerationJob, worker: str, max_images: int
) -> list[Attempt]:
    """Claim queued jobs that can share the lead job's pipeline call, each for an attempt
    of its own with a fresh fencing token.

    Compatible: same model, size, steps and guidance scale (prompts and seeds may
    differ), claimable as ``attempt_claim`` would take a queued job (not waiting for its
    prompt check, attempts left, no cancel pending). The images of the lead and of the
    jobs taken fit in ``max_images``. Chosen by priority (lower ``queue_priority``
    first: pro before premium), then queue order. The rows are locked with
    ``FOR UPDATE SKIP LOCKED``, so two workers never take the same job and never wait
    on each other; the job's own queue message later finds it claimed (a no-op).
    """
    budget = max_images - lead.num_images
    if budget < 1:
        return []
    now = timezone.now()
    claimable = Q(
        status=JobStatus.QUEUED,
        awaiting_check=False,
        cancel_requested=False,
        attempts__lt=F("max_attempts"),
    )
    compatible = Q(
        model_id=lead.model_id,
        width=lead.width,
        height=lead.height,
        steps=lead.steps,
        guidance_scale=lead.guidance_scale,
        num_images__lte=budget,
    )
    with transaction.atomic():
        candidates = list(
            GenerationJob.objects.select_for_update(skip_locked=True)
            .filter(claimable & compatible)
            .exclude(pk=lead.pk)
            .order_by("queue_priority", F("queue_seq").asc(nulls_last=True), "queued_at")
            .values_list("pk", "num_images", "attempts")[:budget]
        )
        chosen: list[tuple[uuid.UUID, int]] = []
        for job_id, num_images, attempts in candidates:
            if num_images <= budget:
                chosen.append((job_id, int(attempts) + 1))
                budget -= num_images
        if not chosen:
            return []
        tokens = {job_id: uuid.uuid4() for job_id, _ in chosen}
        claimed = GenerationJob.objects.filter(claimable, pk__in=list(tokens)).update(
            status=JobStatus.RUNNING,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            attempt_token=Case(
                *(When(pk=job_id, then=Value(token)) for job_id, token in tokens.items()),
                output_field=UUIDField(),
            ),
            worker=worker,
            progress_step=0,
            updated_at=now,
        )
        if claimed != len(tokens):  # cannot happen while the rows are locked; never half
            transaction.set_rollback(True)
            return []
    return [
        Attempt(job_id=str(job_id), token=tokens[job_id], number=number)
        for job_id, number in chosen
    ]


@dataclass(frozen=True)
class Renewal:
    """What one renewal of a batch's leases found."""

    holding: frozenset[Attempt]  # still hold their job (lease extended)
    cancel_asked: frozenset[Attempt]  # of those, the ones whose user asked to cancel


def attempts_renew(
    *, attempts: Sequence[Attempt], step: int | None = None, total: int | None = None
) -> Renewal:
    """``attempt_renew`` for every attempt of a batch at once: two statements whatever
    the batch's size. An attempt missing from ``holding`` lost its job (the sweeper took
    it, a moderator held it): it must write nothing more."""
    if not attempts:
        return Renewal(frozenset(), frozenset())
    match = Q()
    for attempt in attempts:
        match |= Q(pk=attempt.job_id, attempt_token=attempt.token)

    def renew() -> Renewal:
        now = timezone.now()
        fields: dict[str, Any] = {
            "lease_expires_at": now + timedelta(seconds=lease_seconds()),
            "updated_at": now,
        }
        if step is not None:
            fields["progress_step"] = step
        if total is not None:
            fields["progress_total"] = total
        rows = GenerationJob.objects.filter(match, status=JobStatus.RUNNING)
        rows.update(**fields)
        found = {str(pk): bool(cancel) for pk, cancel in rows.values_list("pk", "cancel_requested")}
        holding = frozenset(a for a in attempts if a.job_id in found)
        return Renewal(holding, frozenset(a for a in holding if found[a.job_id]))

    return with_fresh_connection(renew)


@contextmanager
def lease_kept(attempt: Attempt) -> Iterator[threading.Event]:
    """Renew the lease from a background thread while the block runs (model load, which
    has no steps to renew it). The event is set if the attempt lost its job."""
    with leases_kept([attempt]) as lost:
        yield lost[attempt.job_id]


@contextmanager
def leases_kept(attempts: Sequence[Attempt]) -> Iterator[dict[str, threading.Event]]:
    """``lease_kept`` for every attempt of a batch, renewed together (one statement per
    renewal). Answers an event per job id, set if that attempt lost its job."""
    lost = {attempt.job_id: threading.Event() for attempt in attempts}
    done = threading.Event()
    every = max(0.5, lease_seconds() / 3)

    def keep() -> None:
        try:
            while not done.wait(every):
                live = [a for a in attempts if not lost[a.job_id].is_set()]
                if not live:
                    return
                try:
                    holding = attempts_renew(attempts=live).holding
                except Exception:
                    logger.warning("lease renewal failed during model load", exc_info=True)
                    continue
                for attempt in live:
                    if attempt not in holding:
                        lost[attempt.job_id].set()
        finally:
            connection.close()  # this thread's own connection

    name = f"lease-{attempts[0].job_id}" if attempts else "lease"
    thread = threading.Thread(target=keep, name=name, daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(timeout=30)


def _release(job: GenerationJob, reason: str) -> None:

    credits_release(reference=job.credit_reference, reason=reason)


def _end(
    attempt: Attempt, *, status: str, release_reason: str, timings: dict[str, Any], **fields: Any
) -> bool:
    """End the attempt's job in ``status`` and release its credits, if it still holds it."""

    def end() -> bool:
        now = timezone.now()
        with transaction.atomic():
            job = _attempt_rows(attempt).select_for_update().first()
            if job is None:
                return False
            _attempt_rows(attempt).update(
                status=status,
                finished_at=now,
                lease_expires_at=None,
                attempt_token=None,
                timings=timings,
                updated_at=now,
                **fields,
            )
            _release(job, release_reason)
        return True

    return with_fresh_connection(end)


def attempt_cancel(*, attempt: Attempt, timings: dict[str, Any]) -> bool:
    """The worker stopped because the user canceled: canceled, credits released."""
    return _end(attempt, status=JobStatus.CANCELED, release_reason="canceled", timings=timings)


def attempt_fail(*, attempt: Attempt, error: str, timings: dict[str, Any] | None = None) -> bool:
    """The attempt failed for good: failed, credits released."""
    return _end(
        attempt,
        status=JobStatus.FAILED,
        release_reason="failed",
        timings=timings or {},
        error=error,
    )


def attempt_fail_or_requeue(*, attempt: Attempt, error: str) -> str | None:
    """After an error: back to the queue while attempts remain, else failed.

    Returns ``queued`` (the caller re-sends it), ``failed``, or ``None`` when the
    attempt had already lost its job. Runs on a fresh connection if the error broke it.
    """

    def requeue() -> str | None:
        now = timezone.now()
        with transaction.atomic():
            job = _attempt_rows(attempt).select_for_update().first()
            if job is None:
                return None
            if job.cancel_requested:
                _attempt_rows(attempt).update(
                    status=JobStatus.CANCELED,
                    finished_at=now,
                    lease_expires_at=None,
                    attempt_token=None,
                    updated_at=now,
                )
                _release(job, "canceled")
                return JobStatus.CANCELED
            if job.attempts < job.max_attempts:
                _attempt_rows(attempt).update(
                    status=JobStatus.QUEUED,
                    lease_expires_at=None,
                    attempt_token=None,
                    dispatched_at=now,
                    error=error,
                    updated_at=now,
                )
                return JobStatus.QUEUED
            _attempt_rows(attempt).update(
                status=JobStatus.FAILED,
                finished_at=now,
                lease_expires_at=None,
                attempt_token=None,
                error=error,
                updated_at=now,
            )
            _release(job, "failed")
            return JobStatus.FAILED

    return with_fresh_connection(requeue)


@dataclass(frozen=True)
class OutputVerdict:
    """What output moderation decided about the attempt's images."""

    decision: str  # allow | review | block
    category: str = ""
    severity: int = 1
    statement_id: uuid.UUID | None = None
    source: Any = None  # the moderation decision, for the review item's context


def attempt_conclude(
    *,
    attempt: Attempt,
    verdict: OutputVerdict,
    timings: dict[str, Any],
    store: Callable[[GenerationJob], list[GeneratedImage]],
) -> tuple[str, list[GeneratedImage]]:
    """Store the images and settle the job in one transaction, if the attempt holds it.

    ``allow`` ⇒ succeeded and charged; ``review`` ⇒ held (output stage) with a review
    item, credits still reserved; ``block`` ⇒ blocked and released. A cancel requested
    meanwhile wins: canceled, released, no images. StaleAttempt if the job was taken
    away: nothing is stored or settled.
    """

    now = timezone.now()
    with transaction.atomic():
        job = _attempt_rows(attempt).select_for_update(of=("self",)).select_related("user").first()
        if job is None:
            raise StaleAttempt(f"attempt {attempt.number} of job {attempt.job_id} lost its job")
        ended = {"lease_expires_at": None, "attempt_token": None, "updated_at": now}
        if job.cancel_requested:
            _attempt_rows(attempt).update(
                status=JobStatus.CANCELED, finished_at=now, timings=timings, **ended
            )
            _release(job, "canceled")
            return JobStatus.CANCELED, []
        stored = store(job)
        if verdict.decision == "allow":
            _attempt_rows(attempt).update(
                status=JobStatus.SUCCEEDED,
                credits_charged=job.credits_reserved,
                progress_step=job.steps,
                finished_at=now,
                timings=timings,
                **ended,
            )
            credits_commit(reference=job.credit_reference)
            return JobStatus.SUCCEEDED, stored
        if verdict.decision == "review":
            _attempt_rows(attempt).update(
                status=JobStatus.HELD_FOR_REVIEW,
                hold_stage=HoldStage.OUTPUT,
                moderation_category=verdict.category,
                timings=timings,
                **ended,
            )

            review_item_open(
                kind="output",
                subject_type="generation.job",
                subject_id=str(job.pk),
                user=job.user,
                category=verdict.category,
                severity=verdict.severity,
                context=review_context(job, verdict.source),
            )
            return JobStatus.HELD_FOR_REVIEW, stored
        _attempt_rows(attempt).update(
            status=JobStatus.BLOCKED,
            moderation_category=verdict.category,
            statement_id=verdict.statement_id,
            finished_at=now,
            timings=timings,
            **ended,
        )
        _release(job, "output_blocked")
        return JobStatus.BLOCKED, stored


# --- recovery and dispatch (the periodic sweeper) -------------------------------------


def jobs_recover_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Running jobs whose lease ran out: taken from their worker (token cleared), then
    re-queued while attempts remain, canceled if the user asked, else failed."""

    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "canceled": 0}
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
            job.lease_expires_at = None
            job.attempt_token = None
            fields = ["status", "lease_expires_at", "attempt_token", "error", "updated_at"]
            if job.cancel_requested:
                job.status = JobStatus.CANCELED
                job.finished_at = now
                job.error = ""
                job.save(update_fields=[*fields, "finished_at"])
                _release(job, "canceled")
                counts["canceled"] += 1
            elif job.attempts < job.max_attempts:
                job.status = JobStatus.QUEUED
                job.dispatched_at = now
                job.error = "Worker stopped; re-queued."
                job.save(update_fields=[*fields, "dispatched_at"])
                generation_enqueue_on_commit(job)
                counts["requeued"] += 1
            else:
                job.status = JobStatus.FAILED
                job.finished_at = now
                job.error = f"Worker stopped {job.attempts} times; giving up."
                job.save(update_fields=[*fields, "finished_at"])
                _release(job, "failed")
                counts["failed"] += 1
    return counts


def jobs_redispatch(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Re-send queued jobs whose last message is older than the dispatch bound.

    Highest priority first, then oldest; ``queued_at`` is untouched, so each job keeps
    its place. A job waiting for the asynchronous prompt check gets that check again,
    never the GPU. A duplicate message is harmless: the claim takes a job once.
    """

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=dispatch_resend_seconds())
    stale = Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True, queued_at__lt=cutoff)
    candidates = (
        GenerationJob.objects.filter(stale, status=JobStatus.QUEUED)
        .order_by("queue_priority", "queued_at")
        .values_list("pk", "dispatched_at")[:batch]
    )
    counts = {"resent": 0, "rechecked": 0}
    for job_id, dispatched_at in list(candidates):
        with transaction.atomic():
            # Conditional on the value read: two sweepers never send the same job twice.
            updated = GenerationJob.objects.filter(
                pk=job_id, status=JobStatus.QUEUED, dispatched_at=dispatched_at
            ).update(dispatched_at=now)
            if updated != 1:
                continue
            job = GenerationJob.objects.get(pk=job_id)
            if job.awaiting_check:
                _resend_prompt_check(job)
                counts["rechecked"] += 1
            else:
                generation_enqueue_on_commit(job)
                counts["resent"] += 1
    return counts


def _resend_prompt_check(job: GenerationJob) -> None:

    if job.moderation_decision_id is None:
        logger.error("job %s waits for a prompt check but has no decision", job.pk)
        return
    job_id, decision_id = str(job.pk), str(job.moderation_decision_id)
    transaction.on_commit(lambda: check_prompt_async.delay(job_id, decision_id), robust=True)
