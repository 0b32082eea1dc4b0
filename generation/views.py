"""The web studio: prompt form, live progress, gallery, image pages and share links."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability.models import StatementOfReasons
from accounts import gates as account_gates
from billing.credits import credits_balance
from billing.entitlements import entitlements_for
from billing.gates import gate_plan_active
from core.categories import category_label
from core.errors import ApplicationError, ErrorCode
from generation import selectors, services
from generation.apis import etag_matches, image_response
from generation.catalog import models_for
from generation.models import GeneratedImage, JobStatus, ShareLink
from generation.selectors import job_etag, queue_position
from generation.serializers import GenerationCreateSerializer, GenerationOutputSerializer
from generation.services import GenerationRequest
from moderation.models import ModerationDecision, Strike
from moderation.policy import policy_compiled
from moderation.services.enforcement import strike_weight_active

SIDES = (256, 384, 512, 640, 768, 896, 1024)


def _readiness(user: Any) -> ApplicationError | None:
    """The first gate this user fails before any parameters are looked at, if any."""
    try:
        account_gates.gate_email_verified(user=user)
        account_gates.gate_age_verified(user=user)
        gate_plan_active(entitlements=entitlements_for(user=user))
        account_gates.gate_account_state(user=user)
    except ApplicationError as error:
        return error
    return None


NEXT_STEP = {
    ErrorCode.EMAIL_UNVERIFIED: ("/accounts/email/", "Verify your email address"),
    ErrorCode.AGE_VERIFICATION_REQUIRED: ("/account/", "Verify your age"),
    ErrorCode.SUBSCRIPTION_REQUIRED: ("/pricing/", "Choose a plan"),
    ErrorCode.ACCOUNT_SUSPENDED: ("/account/", "See your account"),
    ErrorCode.COOLDOWN: ("/account/", "See your account"),
}


@login_required
@require_http_methods(["GET", "POST"])
def studio(request: HttpRequest) -> HttpResponse:
    user = request.user
    entitlements = entitlements_for(user=user)
    form_values: dict[str, Any] = {
        "prompt": "", "negative_prompt": "", "width": 512, "height": 512,
        "steps": min(25, entitlements.max_steps or 25), "guidance_scale": 7.5, "seed": "",
        "num_images": 1, "model": "",
    }  # fmt: skip
    field_errors: dict[str, Any] = {}
    blocked: dict[str, Any] | None = None
    if request.method == "POST":
        data: dict[str, Any] = {
            k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and v != ""
        }
        data["no_distribution"] = "no_distribution" in request.POST
        form_values.update(data)
        serializer = GenerationCreateSerializer(data=data)
        if serializer.is_valid():
            try:
                job = services.generation_submit(
                    user=user,  # type: ignore[arg-type]
                    request=GenerationRequest(**serializer.validated_data),
                    ip=str(request.META.get("REMOTE_ADDR", "")),
                )
            except ApplicationError as error:
                field_errors = error.details if error.code == ErrorCode.INVALID_REQUEST else {}
                if error.code == ErrorCode.PROMPT_BLOCKED:
                    blocked = blocked_prompt_answer(user=user, details=error.details)
                else:
                    messages.error(request, error.message)
            else:
                return redirect("studio-job", job_id=job.pk)
        else:
            field_errors = {k: [str(m) for m in v] for k, v in serializer.errors.items()}
            messages.error(request, "Please correct the highlighted fields.")
    blocker = _readiness(user)
    jobs = list(selectors.job_list_for_user(user=user)[:12])
    context = {
        "blocked": blocked,
        "recent": recent_attempts(user=user, jobs=jobs),
        "has_test_model": any("test_model" in m.flags for m in models_for(entitlements)),
        "cooldown_until": getattr(user, "cooldown_until", None)
        if getattr(user, "account_state", "") == "cooldown"
        else None,
        "form": form_values,
        "field_errors": field_errors,
        "entitlements": entitlements,
        "models": models_for(entitlements),
        "sides": [side for side in SIDES if side <= (entitlements.max_side or 512)],
        "balance": credits_balance(user=user),
        "blocker": blocker,
        "next_step": NEXT_STEP.get(blocker.code) if blocker else None,
        "jobs": jobs,
    }
    return render(request, "generation/studio.html", context)


def blocked_prompt_answer(*, user: Any, details: dict[str, Any]) -> dict[str, Any]:
    """Everything the studio says about a blocked prompt: the category and words, the
    statement to read and appeal, whether it added a strike, how close the account is
    to a cool-down, and when a cool-down it caused ends."""
    statement = (
        StatementOfReasons.objects.filter(pk=details["statement_id"], user=user).first()
        if details.get("statement_id")
        else None
    )
    strikes = policy_compiled().policy.strikes
    weight = strike_weight_active(user=user)
    added = list(
        Strike.objects.filter(pk__in=statement.strike_ids if statement else []).values_list(
            "severity", flat=True
        )
    )
    user.refresh_from_db(fields=["account_state", "cooldown_until"])
    cooling = user.account_state == "cooldown"
    return {
        "category": details.get("category") or "",
        "category_label": category_label(details.get("category")),
        "matched_text": details.get("matched_text") or "",
        "layer": details.get("layer") or "",
        "statement": statement,
        "added_strike": bool(statement is not None and statement.strike_ids),
        "strike_weight": weight,
        "cooldown_at": strikes.cooldown_at,
        "cooldown_hours": strikes.cooldown_hours,
        # Another block like this one would start the cool-down: say so now.
        "next_block_cools": bool(added) and weight + max(added) >= strikes.cooldown_at,
        "window_days": strikes.window_days,
        "cooldown_until": user.cooldown_until if cooling else None,
    }


def recent_attempts(*, user: Any, jobs: list[Any]) -> list[dict[str, Any]]:
    """The studio's Recent list: jobs and blocked prompts (which make no job), newest
    first, each blocked one with its statement."""
    blocked = (
        ModerationDecision.objects.filter(user=user, stage="prompt", decision="block")
        .select_related("prompt_log")
        .order_by("-created_at")[:12]
    )
    rows: list[dict[str, Any]] = [
        {"kind": "job", "created_at": job.created_at, "job": job} for job in jobs
    ]
    rows += [
        {
            "kind": "blocked",
            "created_at": decision.created_at,
            "prompt": decision.prompt_log.prompt if decision.prompt_log else "",
            "category": decision.category,
            "statement_id": decision.statement_id,
        }
        for decision in blocked
    ]
    rows.sort(key=lambda row: row["created_at"], reverse=True)
    return rows[:12]


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    """Every delivered image of the user, newest first, 24 a page."""
    from django.core.paginator import Paginator

    images = (
        GeneratedImage.objects.filter(
            job__user_id=str(request.user.pk),
            job__status=JobStatus.SUCCEEDED,
            purged_at__isnull=True,
        )
        .select_related("job")
        .order_by("-job__created_at", "index")
    )
    page = Paginator(images, 24).get_page(request.GET.get("page"))
    return render(request, "generation/gallery.html", {"page": page})


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    return render(request, "generation/job.html", _job_context(job))


def _job_or_404(request: HttpRequest, job_id: str) -> Any:
    try:
        return selectors.job_get_for_user(user=request.user, job_id=job_id)
    except ApplicationError:
        return _raise_404()


def _raise_404() -> Any:
    from django.http import Http404

    raise Http404


def job_stage(
    *,
    status: str,
    step: int,
    total: int,
    queue_position: int | None,
    after_steps: str = "",
    checking: bool = False,
) -> dict[str, str]:
    """What a live job is doing, in words: one badge and one label that agree.

    A queued job waiting for the deep check (``checking``) is checking the prompt
    before it is queued for the GPU. The worker reports denoising steps; before the
    first step it is loading the model; after the last one it names its stage
    (``after_steps``): checking the image against the content policy, then storing it.
    """
    if status == JobStatus.QUEUED and checking:
        return {"badge": "Queued", "tone": "warn", "label": "Checking the prompt…"}
    if status == JobStatus.QUEUED:
        where = f" — position {queue_position} in the queue" if queue_position else ""
        return {"badge": "Queued", "tone": "warn", "label": f"Waiting for a worker{where}."}
    if status != JobStatus.RUNNING:
        return {"badge": str(JobStatus(status).label), "tone": "", "label": ""}
    if step <= 0:
        return {"badge": "Running", "tone": "info", "label": "Loading the model…"}
    if step < total:
        return {"badge": "Running", "tone": "info", "label": f"Generating: step {step} of {total}"}
    if after_steps == "storing":
        label = "Storing the image (watermark and provenance)…"
    else:
        label = "Checking the image against the content policy…"
    return {"badge": "Running", "tone": "info", "label": label}


def _job_context(job: Any, queue_position: Any = None) -> dict[str, Any]:
    position = selectors.queue_position(job=job) if queue_position is None else queue_position
    data = GenerationOutputSerializer(job, context={"queue_position": position}).data
    step = int(data["progress"]["step"] or 0)
    total = int(data["progress"]["total"] or job.steps or 1)
    return {
        "job": job,
        "data": data,
        "percent": int(100 * min(step, total) / total),
        "progress_value": min(step, total),
        "progress_max": total,
        "stage": job_stage(
            status=job.status,
            step=step,
            total=total,
            queue_position=data.get("queue_position"),
            after_steps=str((job.timings or {}).get("stage", "")),
            checking=bool(job.awaiting_check),
        ),
        "is_live": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


@login_required
@require_GET
def job_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """The htmx-polled progress fragment; the page reloads itself once the job ends.

    Answers 304 to ``If-None-Match`` while nothing shown has changed (htmx swaps nothing).
    """
    job = _job_or_404(request, job_id)
    position = queue_position(job=job)
    etag = job_etag(job=job, queue_position=position)
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        return not_modified
    context = _job_context(job, queue_position=position)
    response = render(request, "generation/_progress.html", context)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    if not context["is_live"]:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        services.generation_cancel(user=request.user, job_id=job.pk)  # type: ignore[arg-type]
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Canceled. The reserved credits were returned.")
    return redirect("studio-job", job_id=job.pk)


def _image_or_404(request: HttpRequest, image_id: str) -> GeneratedImage:
    try:
        image = selectors.image_visible_to(user=request.user, image_id=image_id)
    except ApplicationError:
        return _raise_404()
    if image.job.user_id != request.user.pk:
        return _raise_404()
    return image


@login_required
@require_GET
def image_page(request: HttpRequest, image_id: str) -> HttpResponse:
    image = _image_or_404(request, image_id)
    links = image.share_links.filter(revoked_at__isnull=True)
    return render(
        request,
        "generation/image.html",
        {
            "image": image,
            "job": image.job,
            "links": links,
            "site_url": request.build_absolute_uri("/")[:-1],
        },
    )


@login_required
@require_POST
def share_create(request: HttpRequest, image_id: str) -> HttpResponse:
    image = _image_or_404(request, image_id)
    services.share_link_create(user=request.user, image=image)  # type: ignore[arg-type]
    messages.success(request, "Share link created. Anyone with the link can see this image.")
    return redirect("studio-image", image_id=image.pk)


@login_required
@require_POST
def share_revoke(request: HttpRequest, image_id: str, link_id: int) -> HttpResponse:
    image = _image_or_404(request, image_id)
    link = ShareLink.objects.filter(pk=link_id, image=image).first()
    if link is None:
        return _raise_404()
    services.share_link_revoke(user=request.user, link=link)  # type: ignore[arg-type]
    messages.success(request, "Share link revoked.")
    return redirect("studio-image", image_id=image.pk)


@require_GET
def shared_image_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        image = selectors.image_for_share_token(token=token)
    except ApplicationError:
        return _raise_404()
    return render(request, "generation/shared.html", {"image": image, "token": token})


@require_GET
def shared_image_file(request: HttpRequest, token: str) -> Any:
    try:
        image = selectors.image_for_share_token(token=token)
    except ApplicationError:
        return _raise_404()
    return image_response(image.storage_key, filename=f"{image.pk}.png")
