"""The web studio: prompt form, live progress, gallery, image pages and share links."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError, ErrorCode
from generation import selectors, services
from generation.catalog import models_for
from generation.models import GeneratedImage, JobStatus, ShareLink
from generation.serializers import GenerationCreateSerializer, GenerationOutputSerializer
from generation.services import GenerationRequest

SIDES = (256, 384, 512, 640, 768, 896, 1024)


def _readiness(user: Any) -> ApplicationError | None:
    """The first gate this user fails before any parameters are looked at, if any."""
    from accounts import gates as account_gates
    from billing.entitlements import entitlements_for
    from billing.gates import gate_plan_active

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
    from billing.credits import credits_balance
    from billing.entitlements import entitlements_for

    user = request.user
    entitlements = entitlements_for(user=user)
    form_values: dict[str, Any] = {
        "prompt": "", "negative_prompt": "", "width": 512, "height": 512,
        "steps": min(25, entitlements.max_steps or 25), "guidance_scale": 7.5, "seed": "",
        "num_images": 1, "model": "",
    }  # fmt: skip
    field_errors: dict[str, Any] = {}
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
                _report_refusal(request, error)
            else:
                return redirect("studio-job", job_id=job.pk)
        else:
            field_errors = {k: [str(m) for m in v] for k, v in serializer.errors.items()}
            messages.error(request, "Please correct the highlighted fields.")
    blocker = _readiness(user)
    jobs = list(selectors.job_list_for_user(user=user)[:12])
    context = {
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


def _report_refusal(request: HttpRequest, error: ApplicationError) -> None:
    if error.code == ErrorCode.PROMPT_BLOCKED:
        from core.categories import category_label

        category = error.details.get("category")
        matched = error.details.get("matched_text")
        text = f"Your prompt was blocked under the content policy ({category_label(category)})."
        if matched:
            text += f" It matched “{matched}”."
        text += " A statement of reasons is in your account; you may appeal it."
        messages.error(request, text)
    else:
        messages.error(request, error.message)


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


def _job_context(job: Any, queue_position: Any = None) -> dict[str, Any]:
    from generation.selectors import queue_position as position_of

    position = position_of(job=job) if queue_position is None else queue_position
    data = GenerationOutputSerializer(job, context={"queue_position": position}).data
    total = data["progress"]["total"] or 1
    return {
        "job": job,
        "data": data,
        "percent": int(100 * data["progress"]["step"] / total),
        "is_live": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


@login_required
@require_GET
def job_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """The htmx-polled progress fragment; the page reloads itself once the job ends.

    Answers 304 to ``If-None-Match`` while nothing shown has changed (htmx swaps nothing).
    """
    from generation.apis import etag_matches
    from generation.selectors import job_etag, queue_position

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
    from generation.apis import image_response

    try:
        image = selectors.image_for_share_token(token=token)
    except ApplicationError:
        return _raise_404()
    return image_response(image.storage_key, filename=f"{image.pk}.png")
