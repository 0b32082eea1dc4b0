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
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.review import review_item_open
from accounts import gates as account_gates
from accounts.selectors import user_jurisdiction
from accounts.services import LookupColumns
from billing.credits import (
    credits_balance,
    credits_commit,
    credits_release,
    credits_reserve,
    credits_reserve_rows,
    credits_short,
)
from billing.entitlements import entitlements_for, entitlements_from
from billing.gates import gate_plan_active
from billing.pricing import generation_cost
from core.errors import ApplicationError, ErrorCode
from core.ratelimit import rate_limit_hit
from core.sql import guards_supported, row_insert
from generation.catalog import all_models, model_allowed, model_features
from generation.models import GeneratedImage, GenerationJob, HoldStage, JobStatus, ShareLink
from generation.selectors import (
    SubmitFacts,
    queue_seq_next,
    queue_seq_next_in_insert,
    submit_facts,
    submit_facts_columns,
)
from moderation.selectors import generation_requests_per_minute, strike_window_start
from moderation.services import (
    NotWritten,
    PromptVerdict,
    SubjectKey,
    prompt_check_async_enqueue,
    prompt_decide,
    prompt_needs_async_check,
    prompt_record,
)

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# The GPU task (generation/tasks.py), found by name: the task module's side of the job
# state machine (generation.attempts) imports this module.
GPU_TASK = "generation.run_job"

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
    facts: SubmitFacts | None = None,
) -> GenerationJob:
    """Accept a generation request only when every gate of SPEC §1 holds, in order.

    Two steps: ``_submit_check`` runs the gates and writes nothing (only the rate
    limit's counter moves), ``_submit_write`` records the prompt decision and, unless it
    blocks, the job and its reservation. The same ``idempotency_key`` returns the same
    job and charges once. A blocked prompt raises 422 ``prompt_blocked`` and charges
    nothing (the moderation service has already recorded the decision, strike and
    statement).

    Cost (docs/benchmarks.md): the gates' facts are read once (the email, billing-flag,
    credit and strike facts in one statement, the jurisdiction once), and an allowed
    prompt is written in one transaction: prompt log and decision (naming the job), the
    job, and the reservation, a conditional ``UPDATE`` that holds the account's row lock
    only until this commit. The queue position is not computed here.
    """
    if idempotency_key:
        existing = _existing_for_key(user, idempotency_key, request)
        if existing is not None:
            return existing
    plan = _submit_check(
        user=user, request=request, idempotency_key=idempotency_key, ip=ip, facts=facts
    )
    return _submit_write(plan)


def submit_lookup_columns() -> LookupColumns:
    """What a submit by API key has the key's lookup read besides: the gate facts
    (``submit_facts``), one statement fewer per submit (docs/benchmarks.md)."""
    return LookupColumns(*submit_facts_columns(strikes_since=strike_window_start()))


@dataclass(frozen=True)
class SubmitPlan:
    """What the checks of a submit settled: every gate passed; nothing written yet."""

    user: User
    request: GenerationRequest
    idempotency_key: str | None
    model_id: str
    cost: int
    entitlements: Any
    jurisdiction: Any
    ip_hash: str


def _submit_check(
    *,
    user: User,
    request: GenerationRequest,
    idempotency_key: str | None,
    ip: str,
    facts: SubmitFacts | None,
) -> SubmitPlan:
    """Gates 1–8 of SPEC §1 in order (docs/architecture.md, "Gate order"); each raises
    its ``ApplicationError``. Reads only, except the rate limit's counter. ``facts``:
    ``submit_facts`` already read in this request (by the API key's lookup)."""
    if facts is None:
        facts = submit_facts(user=user, strikes_since=strike_window_start())
    jurisdiction = user_jurisdiction(user=user)
    account_gates.gate_email_verified(user=user, is_verified=facts.email_verified)
    account_gates.gate_age_verified(user=user, jurisdiction=jurisdiction)
    entitlements = (
        entitlements_for(user=user, has_open_review_flag=facts.has_open_billing_flag)
        if facts.subscriptions is None
        else entitlements_from(
            user=user,
            subscriptions=facts.subscriptions,
            has_open_review_flag=facts.has_open_billing_flag,
        )
    )
    gate_plan_active(entitlements=entitlements)
    account_gates.gate_account_state(user=user)
    spec = all_models().get(request.model or "")
    account_gates.gate_region_allows(
        user=user,
        features=model_features(spec) if spec else frozenset(),
        jurisdiction=jurisdiction,
    )
    model_id = _check_parameters(request, entitlements)
    spec = all_models()[model_id]
    account_gates.gate_region_allows(
        user=user, features=model_features(spec), jurisdiction=jurisdiction
    )

    per_minute = generation_requests_per_minute(
        user=user, plan_limit=entitlements.requests_per_minute, strike_weight=facts.strike_weight
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
    if facts.credit_balance < cost:
        raise ApplicationError(
            ErrorCode.QUOTA_EXHAUSTED,
            details={"required": cost, "available": facts.credit_balance},
        )
    return SubmitPlan(
        user=user,
        request=request,
        idempotency_key=idempotency_key,
        model_id=model_id,
        cost=cost,
        entitlements=entitlements,
        jurisdiction=jurisdiction,
        ip_hash=hash_ip(ip),
    )


def _submit_write(plan: SubmitPlan) -> GenerationJob:
    """Gate 9 and the writes: the prompt's decision (outside any transaction: the
    external API may be called inline), then its records and, unless it blocks, the job,
    its reservation and its hand-on, all or nothing; a block answers 422.

    An allowed prompt on PostgreSQL is one statement and no transaction: the
    reservation's conditional ``UPDATE`` guards the prompt log, the decision, the job
    and the ledger entry (``core.sql.rows_insert``'s guard), so a balance spent since
    the gates read it writes nothing and answers 402. Otherwise (a held or blocked
    prompt, or another database) one transaction, statement by statement."""
    verdict = prompt_decide(
        user=plan.user,
        prompt=plan.request.prompt,
        negative_prompt=plan.request.negative_prompt,
        jurisdiction=plan.jurisdiction,
    )
    job_id = uuid.uuid4()
    try:
        if verdict.decision == "allow" and guards_supported():
            return _submit_write_allowed(plan, verdict, job_id)
        with transaction.atomic():
            decision = prompt_record(
                verdict,
                user=plan.user,
                ip_hash=plan.ip_hash,
                subject_unless_blocked=SubjectKey(GenerationJob, job_id),
            )
            if decision.decision == "block":
                job = None  # the decision, strike and statement commit; nothing else
            else:
                job = row_insert(_job_row(job_id=job_id, plan=plan, decision=decision))
                credits_reserve(user=plan.user, amount=plan.cost, reference=job.credit_reference)
                _job_hand_on(job, decision)
    except IntegrityError:
        if plan.idempotency_key:  # a concurrent request with the same key won: its job
            existing = _existing_for_key(plan.user, plan.idempotency_key, plan.request)
            if existing is not None:
                return existing
        raise
    if job is None:
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
    return job


def _submit_write_allowed(plan: SubmitPlan, verdict: PromptVerdict, job_id: UUID) -> GenerationJob:
    """An allowed prompt's records, job and reservation in one statement (PostgreSQL)."""
    reference = GenerationJob.credit_reference_for(job_id)
    guard, entry = credits_reserve_rows(user_id=plan.user.pk, amount=plan.cost, reference=reference)
    written: list[GenerationJob] = []

    def rows(decision: Any) -> list[Any]:
        written.append(_job_row(job_id=job_id, plan=plan, decision=decision))
        return [written[0], entry]

    try:
        decision = prompt_record(
            verdict,
            user=plan.user,
            ip_hash=plan.ip_hash,
            subject_unless_blocked=SubjectKey(GenerationJob, job_id),
            rows_if_allowed=rows,
            guard=guard,
        )
    except NotWritten:  # the balance was spent since the gates read it
        balance = credits_balance(user=plan.user).balance
        raise credits_short(balance=balance, amount=plan.cost) from None
    _job_hand_on(written[0], decision)
    return written[0]


def _job_row(*, job_id: UUID, plan: SubmitPlan, decision: Any) -> GenerationJob:
    """The job of an accepted prompt, not yet written (``row_insert`` or the moderation
    records' statement writes it)."""
    request, entitlements = plan.request, plan.entitlements
    model_id, cost, ip_hash = plan.model_id, plan.cost, plan.ip_hash
    user, idempotency_key = plan.user, plan.idempotency_key
    held = decision.decision == "review"
    needs_check = not held and prompt_needs_async_check(decision=decision)
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    now = timezone.now()
    return GenerationJob(
        id=job_id,
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
        # A hold under a regional rule comes with a statement of reasons.
        statement_id=getattr(decision, "statement_id", None) if held else None,
        ip_hash=ip_hash,
        queued_at=None if held else now,
        # A SqlValue: the INSERT takes the number (core.sql), which the stubs do not know.
        queue_seq=None if held else cast(Any, queue_seq_next_in_insert()),
        awaiting_check=needs_check,
        dispatched_at=None if held else now,
    )


def _job_hand_on(job: GenerationJob, decision: Any) -> None:
    """A held job goes to review; an allowed one to the deep check or the GPU.

    The deep check (the text classifiers, the external API) runs on the ``moderation``
    queue and hands the job on to the GPU, to review or to a block
    (``generation_enqueue_gpu`` and friends). A job held by the rules gets it too
    when the classifiers were deferred: a block there (zero tolerance) still blocks it,
    and the moderator sees the classifier's scores; it does not wait for it
    (``awaiting_check`` stays off: a moderator's approval stands in for the check).
    """
    if job.status == JobStatus.HELD_FOR_REVIEW:
        _open_review(job, kind="prompt", decision=decision)
        if prompt_needs_async_check(decision=decision):
            prompt_check_async_enqueue(job_id=job.pk, decision=decision)
    elif job.awaiting_check:
        prompt_check_async_enqueue(job_id=job.pk, decision=decision)
    else:
        generation_enqueue_on_commit(job)


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
    """Send the job to the GPU queue, at its plan's priority, once the transaction commits.

    A failed publish (broker unreachable) is logged, not raised: the job is committed and
    the dispatch reconciler (``generation.attempts.jobs_redispatch``) sends it later, so
    the caller answers what happened rather than a 500 for a job that will run.
    """
    job_id = str(job.pk)
    priority = job.queue_priority
    task = current_app.tasks[GPU_TASK]
    transaction.on_commit(lambda: task.apply_async((job_id,), priority=priority), robust=True)


def generation_enqueue_gpu(*, job_id: UUID | str) -> None:
    """The asynchronous prompt check passed: the queued job may go to the GPU now."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.status == JobStatus.QUEUED:
            job.awaiting_check = False
            job.dispatched_at = timezone.now()
            job.save(update_fields=["awaiting_check", "dispatched_at", "updated_at"])
            generation_enqueue_on_commit(job)


def _settle_release(job: GenerationJob, reason: str) -> None:
    credits_release(reference=job.credit_reference, reason=reason)


def _settle_commit(job: GenerationJob) -> None:
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
            job.queued_at = job.dispatched_at = now
            job.awaiting_check = False  # a moderator's approval stands in for the check
            job.queue_seq = queue_seq_next()
            generation_enqueue_on_commit(job)
        else:
            job.status = JobStatus.SUCCEEDED
            job.finished_at = now
            job.credits_charged = job.credits_reserved
            _settle_commit(job)
        job.save(
            update_fields=[
                "status", "queued_at", "queue_seq", "dispatched_at", "awaiting_check",
                "finished_at", "credits_charged", "updated_at",
            ]
        )  # fmt: skip
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


def _fence_out(job: GenerationJob) -> list[str]:
    """Take a running job from its worker: its attempt's writes match no row any more."""
    job.attempt_token = None
    job.lease_expires_at = None
    return ["attempt_token", "lease_expires_at"]


def generation_hold_for_review(*, job_id: UUID | str, decision: Any) -> GenerationJob:
    """An asynchronous prompt check was unsure: hold the job for a moderator, whatever
    state it reached meanwhile (with the decision's statement of reasons, if it has one:
    a stricter regional threshold).

    Queued (waiting for the check, or re-sent) or running ⇒ held before generation (a
    running attempt is fenced out and stops; nothing is stored or charged). Delivered
    without the check ⇒ its images are withdrawn and held after generation (the credits
    stay committed: the images were made; a rejection keeps them blocked). Already held
    or finished otherwise ⇒ unchanged.
    """
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        category = getattr(decision, "category", "") or job.moderation_category
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            fenced = _fence_out(job) if job.status == JobStatus.RUNNING else []
            job.status = JobStatus.HELD_FOR_REVIEW
            job.hold_stage = HoldStage.PROMPT
            job.awaiting_check = False
            job.moderation_category = category
            job.statement_id = getattr(decision, "statement_id", None) or job.statement_id
            job.save(
                update_fields=[
                    "status", "hold_stage", "awaiting_check", "moderation_category",
                    "statement_id", "updated_at", *fenced,
                ]
            )  # fmt: skip
            _open_review(job, kind="prompt", decision=decision)
        elif job.status == JobStatus.SUCCEEDED:
            job.status = JobStatus.HELD_FOR_REVIEW
            job.hold_stage = HoldStage.OUTPUT
            job.moderation_category = category
            job.save(update_fields=["status", "hold_stage", "moderation_category", "updated_at"])
            ShareLink.objects.filter(image__job=job, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            _open_review(job, kind="output", decision=decision)
    return job


def generation_block(*, job_id: UUID | str, decision: Any) -> GenerationJob:
    """An asynchronous prompt check blocked the job, whatever state it reached meanwhile.

    Queued, running (fenced out) or held ⇒ blocked and released, nothing charged.
    Delivered without the check ⇒ blocked (no longer served, share links revoked);
    the credits stay committed as for a take-down. Finished otherwise ⇒ unchanged.
    """
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished and job.status != JobStatus.SUCCEEDED:
            return job
        delivered = job.status == JobStatus.SUCCEEDED
        fenced = _fence_out(job) if job.status == JobStatus.RUNNING else []
        job.status = JobStatus.BLOCKED
        job.awaiting_check = False
        job.finished_at = job.finished_at if delivered else timezone.now()
        job.moderation_category = getattr(decision, "category", "") or job.moderation_category
        statement = getattr(decision, "statement", None)
        job.statement_id = statement.pk if statement is not None else None
        job.save(
            update_fields=[
                "status", "awaiting_check", "finished_at", "moderation_category",
                "statement_id", "updated_at", *fenced,
            ]
        )  # fmt: skip
        if delivered:
            ShareLink.objects.filter(image__job=job, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        else:
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
