"""Pages: one's statements of reasons (with the appeal form) and the transparency report."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability.appeals import appeal_create
from accountability.reports import report_file
from accountability.selectors import (
    appeal_of,
    appealed_content,
    statement_get_for_user,
    statement_list_for_user,
    transparency_report,
)
from core.errors import ApplicationError, ErrorCode
from core.ratelimit import client_ip, rate_limit_enforce


@login_required
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    statements = statement_list_for_user(user=request.user)
    return render(request, "accountability/statement_list.html", {"statements": statements})


@login_required
@require_http_methods(["GET", "POST"])
def statement_detail(request: HttpRequest, statement_id: str) -> HttpResponse:
    try:
        statement = statement_get_for_user(user=request.user, statement_id=statement_id)
    except ApplicationError:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            appeal_create(
                user=request.user, statement_id=statement.pk, text=request.POST.get("text", "")
            )
        except ApplicationError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise Http404 from None
            error = (
                "Explain why you disagree."
                if exc.code == ErrorCode.INVALID_REQUEST
                else exc.message
            )
        else:
            messages.success(request, "Your appeal was sent. A senior moderator will decide it.")
            return redirect("accountability:statement-detail", statement_id=statement.pk)
    content = appealed_content(statement)
    context = {
        "statement": statement,
        "appeal": appeal_of(statement),
        "error": error,
        "prompt": content["prompt"],
    }
    return render(
        request, "accountability/statement_detail.html", context, status=400 if error else 200
    )


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    return render(request, "accountability/transparency.html", {"report": transparency_report()})


@require_POST
def report_create(request: HttpRequest) -> HttpResponse:
    """The report form on the image and shared-image pages (the API has ``POST /reports``).

    A signed-out visitor may report a shared image (DSA Art. 16: notices from anyone),
    giving a name and an email address; such reports are rate-limited per address.
    """
    image_id = request.POST.get("image_id", "")
    token = request.POST.get("share_token", "")
    signed_in = request.user.is_authenticated
    if not signed_in and not token:
        return redirect_to_login(request.get_full_path())
    try:
        back = (
            reverse("shared-image", args=[token])
            if token
            else reverse("studio-image", args=[str(uuid.UUID(image_id))])
        )
    except (ValueError, NoReverseMatch):
        raise Http404 from None
    try:
        if not signed_in:
            rate_limit_enforce(
                key=client_ip(request),
                limit=int(settings.REPORTS_ANONYMOUS_PER_IP),
                window_seconds=int(settings.REPORTS_ANONYMOUS_WINDOW_SECONDS),
                group="reports:anonymous-ip",
                what="reports from one address",
            )
        report_file(
            reporter=request.user if signed_in else None,
            image_id=image_id,
            reason=request.POST.get("reason", ""),
            details=request.POST.get("details", "")[:2000],
            share_token=token,
            notifier_name=request.POST.get("notifier_name", ""),
            notifier_email=request.POST.get("notifier_email", "")[:254],
        )
    except ApplicationError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404 from None
        # Refused: a 4xx page that says why and leads back; nothing was stored.
        limited = exc.code == ErrorCode.RATE_LIMITED
        response = render(
            request,
            "accountability/report_refused.html",
            {"back": back, "rate_limited": limited, "problems": _report_problems(exc)},
            status=exc.status,
        )
        if limited:
            response["Retry-After"] = exc.headers.get("Retry-After", "60")
        return response
    messages.success(request, "Thank you. A moderator will look at this image.")
    return redirect(back)


def _report_problems(exc: ApplicationError) -> list[str]:
    fields = exc.details if exc.code == ErrorCode.INVALID_REQUEST else {}
    problems = [str(m) for texts in (fields or {}).values() for m in texts]
    return problems or [exc.message]
