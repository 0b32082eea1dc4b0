"""Writes for generation jobs: submission (the gate order of SPEC §1), cancel, reviews.

Every function checks, then writes inside ``transaction.atomic``; tasks are enqueued
on commit. Credits are reserved at submission, committed on success and released on
failure, cancel, output block or rejected review (SPEC §2).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.audit import audit_record
from core.errors import ApplicationError, ErrorCode
from core.ratelimit import generation_requests_per_minute, rate_limit_hit
from generation.catalog import all_models, model_allowed, model_features
from generation.models import GeneratedImage, GenerationJob, HoldStage, JobStatus, ShareLink

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

MIN_SIDE = 64
SIDE_MULTIPLE = 8


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    model: str | None = None
    width: int = 512
    height: int = 512
    steps: int = 25
    guidance_scale: float = 7.5
    seed: int | None = None
    num_images: int = 1
    no_distribution: bool = False

    def as_params(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "model": self.model,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "seed": self.seed,
            "num_images": self.num_images,
            "no_distribution": self.no_distribution,
        }


def hash_ip(ip: str) -> str:
    """A keyed hash of the client IP: linkable within this site, not reversible."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def _same_request(job: GenerationJob, request: GenerationRequest) -> bool:
    return (
        job.prompt == request.prompt
        and job.negative_prompt == request.negative_prompt
        and (request.model is None or job.model_id == request.model)
        and (job.width, job.height, job.steps, job.num_images)
        == (request.width, request.height, request.steps, request.num_images)
        and job.guidance_scale == request.guidance_scale
        and (request.seed is None or job.seed == request.seed)
    )


def _existing_for_key(user: User, key: str, request: GenerationRequest) -> GenerationJob | None:
    job = GenerationJob.objects.filter(user=user, idempotency_key=key).first()
    if job is not None and not _same_request(job, request):
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            "This Idempotency-Key was used for a different request.",
            details={"Idempotency-Key": ["Reused with different parameters."]},
        )
    return job


def _check_parameters(request: GenerationRequest, entitlements: Any) -> str:
    """Gate 6: parameters within the plan. Returns the model id to use."""
    models = all_models()
    model_id = request.model or next(
        (spec.id for spec in models.values() if model_allowed(spec, entitlements)),
        next(iter(models)),
    )
    errors: dict[str, list[str]] = {}
    spec = models.get(model_id)
    if spec is None:
        errors["model"] = [f"Unknown model. Choose one of: {', '.join(models)}."]
    for field in ("width", "height"):
        value = getattr(request, field)
        if value > entitlements.max_side:
            errors[field] = [f"Must be at most {entitlements.max_side} on your plan."]
        elif value < MIN_SIDE or value % SIDE_MULTIPLE:
            errors[field] = [f"Must be a multiple of {SIDE_MULTIPLE}, at least {MIN_SIDE}."]
    if request.steps > entitlements.max_steps:
        errors["steps"] = [f"Must be at most {entitlements.max_steps} on your plan."]
    if request.num_images > entitlements.max_images:
        errors["num_images"] = [f"Must be at most {entitlements.max_images} on your plan."]
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details=errors)
    assert spec is not None
    if not model_allowed(spec, entitlements):
        raise ApplicationError(
            ErrorCode.FEATURE_NOT_IN_PLAN,
            f"The model {spec.id!r} is not included in your plan.",
            details={"model": spec.id, "min_plan": spec.min_plan},
        )
    return model_id


def generation_cost_for(request: GenerationRequest) -> int:
    from billing.pricing import generation_cost

    return generation_cost(
        width=request.width,
        height=request.height,
        steps=request.steps,
        num_images=request.num_images,
    )


def generation_submit(
    *,
    user: User,
    request: GenerationRequest,
    idempotency_key: str | None = None,
    ip: str = "",
) -> GenerationJob:
    """Accept a generation request only when every gate of SPEC §1 holds, in order.

    The same ``idempotency_key`` returns the same job and charges once. A blocked
    prompt raises 422 ``prompt_blocked`` and charges nothing (the moderation service
    has already recorded the decision, strike and statement).
    """
    from accounts import gates as account_gates
    from accounts.selectors import user_jurisdiction
    from billing.credits import credits_balance, credits_reserve
    from billing.entitlements import entitlements_for
    from billing.gates import gate_plan_active
    from moderation.services import (
        prompt_check_async_enqueue,
        prompt_moderate,
        prompt_needs_async_check,
    )

    if idempotency_key:
        existing = _existing_for_key(user, idempotency_key, request)
        if existing is not None:
            return existing

    account_gates.gate_email_verified(user=user)
    account_gates.gate_age_verified(user=user)
    entitlements = entitlements_for(user=user)
    gate_plan_active(entitlements=entitlements)
    account_gates.gate_account_state(user=user)
    spec = all_models().get(request.model or "")
    account_gates.gate_region_allows(
        user=user, features=model_features(spec) if spec else frozenset()
    )
    model_id = _check_parameters(request, entitlements)
    spec = all_models()[model_id]
    account_gates.gate_region_allows(user=user, features=model_features(spec))

    per_minute = generation_requests_per_minute(
        user=user, plan_limit=entitlements.requests_per_minute
    )
    limit = rate_limit_hit(key=f"generation:{user.pk}", limit=per_minute, window_seconds=60)
    if not limit.allowed:
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            f"At most {per_minute} generation requests a minute.",
            details={"retry_after": limit.retry_after},
            headers={"Retry-After": str(limit.retry_after)},
        )

    cost = generation_cost_for(request)
    balance = credits_balance(user=user)
    if balance.balance < cost:
        raise ApplicationError(
            ErrorCode.QUOTA_EXHAUSTED,
            details={"required": cost, "available": balance.balance},
        )

    ip_hash = hash_ip(ip)
    decision = prompt_moderate(
        user=user,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        jurisdiction=user_jurisdiction(user=user),
        ip_hash=ip_hash,
    )
    if decision.decision == "block":
        statement = getattr(decision, "statement", None)
        raise ApplicationError(
            ErrorCode.PROMPT_BLOCKED,
            f"The prompt breaks the content policy ({decision.category}).",
            details={
                "category": decision.category,
                "statement_id": str(statement.pk) if statement is not None else None,
                "layer": decision.layer,
                "span": list(decision.span) if decision.span else None,
                "matched_text": getattr(decision, "matched_text", ""),
            },
        )

    held = decision.decision == "review"
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    now = timezone.now()
    try:
        with transaction.atomic():
            job = GenerationJob.objects.create(
                user=user,
                status=JobStatus.HELD_FOR_REVIEW if held else JobStatus.QUEUED,
                hold_stage=HoldStage.PROMPT if held else HoldStage.NONE,
                idempotency_key=idempotency_key or None,
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                model_id=model_id,
                width=request.width,
                height=request.height,
                steps=request.steps,
                guidance_scale=request.guidance_scale,
                seed=seed,
                num_images=request.num_images,
                no_distribution=request.no_distribution,
                credits_reserved=cost,
                queue_priority=entitlements.queue_priority,
                progress_total=request.steps,
                moderation_decision_id=getattr(decision, "pk", None),
                moderation_category=decision.category or "",
                ip_hash=ip_hash,
                queued_at=None if held else now,
            )
            credits_reserve(user=user, amount=cost, reference=job.credit_reference)
            _link_decision(decision, job)
            if held:
                _open_review(job, kind="prompt", decision=decision)
            elif prompt_needs_async_check(decision=decision):
                # The external layer runs on the ``moderation`` queue; it hands the job on
                # to the GPU, to review or to a block (generation_enqueue_gpu and friends).
                prompt_check_async_enqueue(job_id=job.pk, decision=decision)
            else:
                generation_enqueue_on_commit(job)
    except IntegrityError:
        if idempotency_key:
            existing = _existing_for_key(user, idempotency_key, request)
            if existing is not None:
                return existing
        raise
    return job


def _link_decision(decision: Any, job: GenerationJob) -> None:
    """Point the prompt decision at the job it produced (for the console's history)."""
    if getattr(decision, "pk", None) is None:
        return
    type(decision).objects.filter(pk=decision.pk).update(
        subject_type="generation.job", subject_id=str(job.pk)
    )


def review_context(job: GenerationJob, decision: Any) -> dict[str, Any]:
    """What a moderator needs to see on the review item, from the job and its decision."""
    span = getattr(decision, "span", None)
    return {
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt,
        "normalized_prompt": getattr(decision, "normalized_prompt", ""),
        "scores": getattr(decision, "scores", {}) or {},
        "span": list(span) if span else None,
        "matched_text": getattr(decision, "matched_text", ""),
        "layer": getattr(decision, "layer", ""),
        "decision_id": str(decision.pk) if getattr(decision, "pk", None) else None,
        "model": job.model_id,
        "params": {"width": job.width, "height": job.height, "steps": job.steps},
        "image_ids": [str(pk) for pk in job.images.values_list("pk", flat=True)],
    }


def _open_review(job: GenerationJob, *, kind: str, decision: Any) -> None:
    from accountability.review import review_item_open

    review_item_open(
        kind=kind,
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=job.user,
        category=job.moderation_category or getattr(decision, "category", "") or "",
        severity=int(getattr(decision, "severity", 1) or 1),
        context=review_context(job, decision),
    )


def generation_enqueue_on_commit(job: GenerationJob) -> None:
    """Send the job to the GPU queue, at its plan's priority, once the transaction commits."""
    from generation.tasks import run_generation

    job_id = str(job.pk)
    priority = job.queue_priority
    transaction.on_commit(lambda: run_generation.apply_async((job_id,), priority=priority))


def generation_enqueue_gpu(*, job_id: UUID | str) -> None:
    """Send a queued job to the GPU queue (after an asynchronous prompt check passed)."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.status == JobStatus.QUEUED:
            generation_enqueue_on_commit(job)


def _settle_release(job: GenerationJob, reason: str) -> None:
    from billing.credits import credits_release

    credits_release(reference=job.credit_reference, reason=reason)


def _settle_commit(job: GenerationJob) -> None:
    from billing.credits import credits_commit

    credits_commit(reference=job.credit_reference)


def generation_cancel(*, user: User, job_id: UUID | str) -> GenerationJob:
    """Cancel a job that has not finished; its credits are released.

    A queued or held job is canceled at once; a running one is flagged and the worker
    stops between denoising steps, then releases the credits.
    """
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id, user=user).first()
        if job is None:
            raise ApplicationError(ErrorCode.NOT_FOUND)
        if job.is_finished:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"The job has already finished ({job.status}).",
                details={"status": job.status},
            )
        if job.status == JobStatus.RUNNING:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested", "updated_at"])
            return job
        job.status = JobStatus.CANCELED
        job.cancel_requested = True
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "cancel_requested", "finished_at", "updated_at"])
        _settle_release(job, "canceled")
    return job


def _held_job_for_update(job: GenerationJob) -> GenerationJob:
    locked = GenerationJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != JobStatus.HELD_FOR_REVIEW:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"The job is not held for review ({locked.status}).",
            details={"status": locked.status},
        )
    return locked


def generation_approve_held(*, job: GenerationJob, actor: Any, reason: str) -> GenerationJob:
    """A moderator approves a held job.

    Held before generation ⇒ queued for the GPU. Held after generation ⇒ succeeded:
    images become visible and the reserved credits are committed.
    """
    with transaction.atomic():
        job = _held_job_for_update(job)
        before = {"status": job.status, "hold_stage": job.hold_stage}
        now = timezone.now()
        if job.hold_stage == HoldStage.PROMPT:
            job.status = JobStatus.QUEUED
            job.queued_at = now
            generation_enqueue_on_commit(job)
        else:
            job.status = JobStatus.SUCCEEDED
            job.finished_at = now
            job.credits_charged = job.credits_reserved
            _settle_commit(job)
        job.save(
            update_fields=["status", "queued_at", "finished_at", "credits_charged", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="generation.review_approve",
            target=job,
            before=before,
            after={"status": job.status},
            reason=reason,
        )
    return job


def generation_reject_held(*, job: GenerationJob, actor: Any, reason: str) -> GenerationJob:
    """A moderator rejects a held job: blocked, its reserved credits released."""
    with transaction.atomic():
        job = _held_job_for_update(job)
        before = {"status": job.status, "hold_stage": job.hold_stage}
        job.status = JobStatus.BLOCKED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        _settle_release(job, "review_rejected")
        audit_record(
            actor=actor,
            action="generation.review_reject",
            target=job,
            before=before,
            after={"status": job.status},
            reason=reason,
        )
    return job


def generation_restore(*, job: GenerationJob, actor: Any, reason: str) -> GenerationJob:
    """An appeal reversed a block: the images (if any were made) become visible.

    Nothing is charged: the credits were released when the job was blocked, and
    they stay with the user.
    """
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job.pk)
        if job.status != JobStatus.BLOCKED:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"Only a blocked job can be restored ({job.status}).",
                details={"status": job.status},
            )
        before = {"status": job.status}
        has_images = job.images.filter(purged_at__isnull=True).exists()
        if has_images:
            job.status = JobStatus.SUCCEEDED
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at", "updated_at"])
        audit_record(
            actor=actor,
            action="generation.restore",
            target=job,
            before=before,
            after={"status": job.status, "images_restored": has_images},
            reason=reason,
        )
    return job


def generation_hold_for_review(*, job_id: UUID | str, decision: Any) -> GenerationJob:
    """An asynchronous prompt check was unsure: hold the queued job for a moderator."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.QUEUED:
            return job
        job.status = JobStatus.HELD_FOR_REVIEW
        job.hold_stage = HoldStage.PROMPT
        job.moderation_category = getattr(decision, "category", "") or job.moderation_category
        job.save(update_fields=["status", "hold_stage", "moderation_category", "updated_at"])
        _open_review(job, kind="prompt", decision=decision)
    return job


def generation_block(*, job_id: UUID | str, decision: Any) -> GenerationJob:
    """An asynchronous prompt check blocked a queued job: blocked, nothing charged."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.QUEUED:
            return job
        job.status = JobStatus.BLOCKED
        job.finished_at = timezone.now()
        job.moderation_category = getattr(decision, "category", "") or job.moderation_category
        statement = getattr(decision, "statement", None)
        job.statement_id = statement.pk if statement is not None else None
        job.save(
            update_fields=[
                "status", "finished_at", "moderation_category", "statement_id", "updated_at"
            ]
        )  # fmt: skip
        _settle_release(job, "prompt_blocked")
    return job


def generation_take_down(*, job: GenerationJob, actor: Any, reason: str) -> GenerationJob:
    """A moderator upheld a report: the delivered images stop being served.

    The job becomes ``blocked`` and its share links are revoked; the credits stay
    charged (the images were delivered). The images are kept for appeals and purged
    by retention like any other.
    """
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job.pk)
        if job.status != JobStatus.SUCCEEDED:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"Only a delivered job can be taken down ({job.status}).",
                details={"status": job.status},
            )
        before = {"status": job.status}
        job.status = JobStatus.BLOCKED
        job.save(update_fields=["status", "updated_at"])
        revoked = ShareLink.objects.filter(image__job=job, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="generation.take_down",
            target=job,
            before=before,
            after={"status": job.status, "share_links_revoked": revoked},
            reason=reason,
        )
    return job


def share_link_create(*, user: User, image: GeneratedImage) -> ShareLink:
    """A new unguessable link to one of the user's visible images."""
    if image.job.user_id != user.pk or image.job.status != JobStatus.SUCCEEDED:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return ShareLink.objects.create(image=image, token=secrets.token_urlsafe(32))


def share_link_revoke(*, user: User, link: ShareLink) -> ShareLink:
    if link.image.job.user_id != user.pk:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link
