"""The moderator console at /moderation/ (SPEC §8). Thin views over accountability's
services; htmx requests get partials, plain requests get full pages or redirects."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accountability.actions import actions_for
from accountability.appeals import APPEAL_REASON_TEMPLATES, appeal_decide
from accountability.audit import audit_record
from accountability.csam import csam_case_close, csam_case_mark_reported, csam_report_package
from accountability.decisions import review_decide
from accountability.legal_holds import legal_hold_place, legal_hold_release
from accountability.models import (
    Appeal,
    AppealStatus,
    CsamCase,
    LegalHold,
    Report,
    ReportStatus,
    ReviewItem,
    ReviewKind,
)
from accountability.review import (
    review_claim,
    review_claim_next,
    review_items_for,
    review_release,
)
from accountability.selectors import appealed_content
from accounts.models import User
from accounts.roles import user_is_senior_moderator
from console.forms import AppealRulingForm, DecisionForm, LegalHoldForm, ReasonForm, TipNumberForm
from console.permissions import moderator_required, senior_required
from console.selectors import (
    dashboard_metrics,
    dashboard_tables,
    item_details,
    queue_for,
    user_history,
    user_timeline,
)
from core.errors import ApplicationError, ErrorCode
from core.http import json_loads_bounded
from generation.models import GeneratedImage
from moderation.models import PolicyVersion
from moderation.policy import policy_current, policy_document_errors, policy_publish


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _error_status(exc: ApplicationError) -> int:
    return 404 if exc.code == ErrorCode.NOT_FOUND else exc.status


@moderator_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    metrics = dashboard_metrics()
    context = {"metrics": metrics, "tables": dashboard_tables(metrics), "nav": "dashboard"}
    return render(request, "console/dashboard.html", context)


@moderator_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or None
    if kind not in (None, *ReviewKind.values):
        kind = None
    items = list(queue_for(moderator=request.user, kind=kind)[:200])
    context = {"items": items, "kind": kind, "kinds": ReviewKind.choices, "nav": "queue"}
    return render(request, "console/queue.html", context)


@moderator_required
@require_POST
def claim_next(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind") or None
    item = review_claim_next(
        moderator=request.user, kind=kind if kind in ReviewKind.values else None
    )
    if item is None:
        messages.info(request, "The queue is empty.")
        target = reverse("console:queue")
    else:
        target = reverse("console:item", args=[item.pk])
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def _visible_item(request: HttpRequest, item_id: int) -> ReviewItem:
    item = review_items_for(moderator=request.user).filter(pk=item_id).first()
    if item is None:
        # Decided items stay viewable for the record; items outside one's remit do not.
        item = ReviewItem.objects.filter(pk=item_id, status="decided").first()
        if item is None or (
            item.kind == ReviewKind.APPEAL and not user_is_senior_moderator(request.user)
        ):
            raise Http404
    return item


@moderator_required
@require_GET
def item_view(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _visible_item(request, item_id)
    if item.kind == ReviewKind.APPEAL:
        appeal = Appeal.objects.filter(pk=item.subject_id).first()
        if appeal is not None:
            return redirect("console:appeal", appeal_id=appeal.pk)
    context: dict[str, Any] = {
        "item": item,
        "details": item_details(item),
        "history": user_history(item.user),
        "form": DecisionForm(),
        "actions": actions_for(
            moderator=request.user, kind=item.kind, requires_senior=item.requires_senior
        ),
        "held_by_me": item.claimed_by_id == request.user.pk,
        "nav": "queue",
    }
    return render(request, "console/item.html", context)


@moderator_required
@require_POST
def item_claim(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _visible_item(request, item_id)
    try:
        review_claim(item=item, moderator=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("console:item", item_id=item.pk)


@moderator_required
@require_POST
def item_release(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _visible_item(request, item_id)
    try:
        review_release(item=item, moderator=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("console:queue")


@moderator_required
@require_POST
def item_decide(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _visible_item(request, item_id)
    form = DecisionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            decided = review_decide(
                item=item,
                moderator=request.user,
                action=form.cleaned_data["action"],
                reason_template=form.cleaned_data["reason_template"],
                reason_text=form.cleaned_data["reason_text"],
            )
        except ApplicationError as exc:
            error, status = exc.message, _error_status(exc)
        else:
            if _is_htmx(request):
                return render(request, "console/_decision_result.html", {"item": decided})
            messages.success(request, f"Decided: {decided.decision or 'escalated'}.")
            return redirect("console:queue")
    else:
        error, status = "Choose an action, a reason from the list, and explain.", 400
    item.refresh_from_db()
    error = _decision_refusal(item=item, moderator=request.user, fallback=error)
    context = {
        "item": item,
        "form": form,
        "error": error,
        "actions": actions_for(
            moderator=request.user, kind=item.kind, requires_senior=item.requires_senior
        ),
    }
    if _is_htmx(request):
        return render(request, "console/_decision_form.html", context, status=status)
    messages.error(request, error)
    return redirect("console:item", item_id=item.pk)


def _decision_refusal(*, item: ReviewItem, moderator: Any, fallback: str) -> str:
    """Why a decision was refused, in words that name who has the item and since when."""
    from django.utils.timesince import timesince

    if item.status == "decided":
        who = item.decided_by.email if item.decided_by else "another moderator"
        return f"Already decided ({item.decision or 'escalated'}) by {who}; nothing changed."
    holder = item.claimed_by
    if item.status == "claimed" and holder is not None and holder.pk != moderator.pk:
        when = timesince(item.claimed_at) if item.claimed_at else ""
        ago = "just now" if not when or when.startswith("0") else f"{when} ago"
        return f"Claimed by {holder.email} {ago}; your decision was not saved."
    return fallback


@moderator_required
@require_GET
def image_file(request: HttpRequest, image_id: str) -> HttpResponseBase:
    """Moderators may see held images; served inline, blurred by the page until revealed."""
    image = GeneratedImage.objects.filter(pk=image_id, purged_at__isnull=True).first()
    if image is None:
        raise Http404
    try:
        handle = default_storage.open(image.storage_key, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@moderator_required
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    rows = Report.objects.filter(status=ReportStatus.OPEN).order_by("-report_count", "created_at")
    items = {
        item.context.get("report_id"): item
        for item in ReviewItem.objects.filter(kind=ReviewKind.REPORT).exclude(status="decided")
    }
    listed = [(report, items.get(str(report.pk))) for report in rows[:200]]
    return render(request, "console/reports.html", {"reports": listed, "nav": "reports"})


@senior_required
@require_GET
def appeals(request: HttpRequest) -> HttpResponse:
    rows = (
        Appeal.objects.filter(status=AppealStatus.OPEN)
        .select_related("statement", "statement__decided_by", "user")
        .order_by("created_at")
    )
    return render(request, "console/appeals.html", {"appeals": rows[:200], "nav": "appeals"})


@senior_required
def appeal_view(request: HttpRequest, appeal_id: str) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("statement", "statement__decided_by", "user"), pk=appeal_id
    )
    is_own_decision = appeal.statement.decided_by_id == request.user.pk
    form = AppealRulingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                appeal_decide(
                    appeal=appeal,
                    moderator=request.user,
                    outcome=form.cleaned_data["outcome"],
                    reason_template=form.cleaned_data["reason_template"],
                    reason_text=form.cleaned_data["reason_text"],
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
                status = _error_status(exc)
            else:
                messages.success(request, "The appeal is decided and the user told.")
                return redirect("console:appeals")
        else:
            status = 400
    context = {
        "appeal": appeal,
        "statement": appeal.statement,
        "content": appealed_content(appeal.statement),
        "reason_groups": [
            (outcome, label, sorted(APPEAL_REASON_TEMPLATES[outcome].items()))
            for outcome, label in (("upheld", "Uphold"), ("reversed", "Reverse"))
        ],
        "chosen_outcome": form["outcome"].value() or "",
        "chosen_reason": form["reason_template"].value() or "",
        "form": form,
        "is_own_decision": is_own_decision,
        "history": user_history(appeal.user),
        "nav": "appeals",
    }
    return render(request, "console/appeal.html", context, status=status)


@moderator_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    found = list(User.objects.filter(email__icontains=query)[:50]) if len(query) >= 3 else []
    return render(request, "console/users.html", {"query": query, "found": found, "nav": "users"})


@moderator_required
@require_GET
def user_view(request: HttpRequest, user_id: str) -> HttpResponse:
    subject = get_object_or_404(User, pk=user_id)
    context = {
        "subject": subject,
        "timeline": user_timeline(subject),
        "history": user_history(subject),
        "holds": LegalHold.objects.filter(user=subject)
        if user_is_senior_moderator(request.user)
        else [],
        "nav": "users",
    }
    return render(request, "console/user.html", context)


@senior_required
def legal_holds(request: HttpRequest) -> HttpResponse:
    form = LegalHoldForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            subject = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
            if subject is None:
                form.add_error("email", "No account has this email address.")
                status = 400
            else:
                legal_hold_place(
                    user=subject, reason=form.cleaned_data["reason"], actor=request.user
                )
                messages.success(request, f"Legal hold placed on {subject.email}.")
                return redirect("console:legal-holds")
        else:
            status = 400
    holds = LegalHold.objects.select_related("user", "placed_by").order_by(
        "released_at", "-placed_at"
    )
    context = {"form": form, "holds": holds[:200], "nav": "holds"}
    return render(request, "console/legal_holds.html", context, status=status)


@senior_required
@require_POST
def legal_hold_release_view(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = get_object_or_404(LegalHold, pk=hold_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for releasing the hold.")
        return redirect("console:legal-holds")
    try:
        legal_hold_release(hold=hold, reason=form.cleaned_data["reason"], actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("console:legal-holds")


@senior_required
@require_GET
def csam_cases(request: HttpRequest) -> HttpResponse:
    cases = CsamCase.objects.select_related("user").order_by("status", "-opened_at")
    return render(request, "console/csam_cases.html", {"cases": cases[:200], "nav": "csam"})


@senior_required
def csam_case_view(request: HttpRequest, case_id: str) -> HttpResponse:
    case = get_object_or_404(CsamCase, pk=case_id)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "report":
                tip_form = TipNumberForm(request.POST)
                if not tip_form.is_valid():
                    raise ApplicationError(ErrorCode.INVALID_REQUEST, "Enter the tip number.")
                csam_case_mark_reported(
                    case=case, tip_number=tip_form.cleaned_data["tip_number"], actor=request.user
                )
            elif request.POST.get("op") == "close":
                reason_form = ReasonForm(request.POST)
                if not reason_form.is_valid():
                    raise ApplicationError(ErrorCode.INVALID_REQUEST, "Give a reason.")
                csam_case_close(
                    case=case, actor=request.user, reason=reason_form.cleaned_data["reason"]
                )
            else:
                raise ApplicationError(ErrorCode.INVALID_REQUEST, "Unknown operation.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            return redirect("console:csam-case", case_id=case.pk)
    else:
        audit_record(actor=request.user, action="csam_case.view", target=case)
    case.refresh_from_db()
    context = {
        "case": case,
        "evidence_json": json.dumps(case.evidence, indent=2, sort_keys=True),
        "nav": "csam",
    }
    return render(request, "console/csam_case.html", context, status=status)


@senior_required
@require_GET
def csam_case_package(request: HttpRequest, case_id: str) -> HttpResponse:
    case = get_object_or_404(CsamCase, pk=case_id)
    package = csam_report_package(case=case, actor=request.user)
    response = JsonResponse(package, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="cybertipline-{case.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@senior_required
def policy_editor(request: HttpRequest) -> HttpResponse:
    """Senior moderators edit thresholds and term lists; publishing creates a new,
    audited policy version (``moderation.policy.policy_publish``)."""
    current = policy_current()
    document_text = json.dumps(current.document, indent=2, sort_keys=True)
    current_text = document_text
    reason = ""
    errors: list[str] = []
    diff: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        document_text = request.POST.get("document", "")
        reason = request.POST.get("reason", "")
        try:
            document = json_loads_bounded(document_text)
        except ValueError as exc:
            errors = [f"The document is not valid JSON: {exc}"]
        else:
            if "preview" in request.POST:
                # Show what would change, line by line, before anything is published.
                proposed = json.dumps(document, indent=2, sort_keys=True)
                diff = policy_diff(current_text, proposed) or [(" ", "No changes.")]
                errors = policy_document_errors(document)
                context = _policy_context(current, document_text, reason)
                context.update({"errors": errors, "diff": diff})
                return render(request, "console/policy.html", context)
            try:
                version = policy_publish(actor=request.user, document=document, reason=reason)
            except ApplicationError as exc:
                details = exc.details or {}
                errors = [str(m) for value in details.values() for m in value] or [exc.message]
            else:
                messages.success(request, f"Policy version {version.number} published.")
                return redirect("console:policy")
        status = 400
    context = _policy_context(current, document_text, reason)
    context["errors"] = errors
    return render(request, "console/policy.html", context, status=status)


def _policy_context(current: Any, document_text: str, reason: str) -> dict:
    categories = current.document.get("categories", {})
    return {
        "current": current,
        "versions": PolicyVersion.objects.order_by("-number")[:20],
        "categories": sorted(categories.items()) if isinstance(categories, dict) else [],
        "document_text": document_text,
        "reason": reason,
        "nav": "policy",
    }


def policy_diff(current: str, proposed: str) -> list[tuple[str, str]]:
    """The changed lines of a policy document (``+`` added, ``-`` removed), with context."""
    import difflib

    lines = difflib.unified_diff(
        current.splitlines(), proposed.splitlines(), "current", "proposed", n=2, lineterm=""
    )
    return [(line[:1], line[1:]) for line in list(lines)[2:]]
