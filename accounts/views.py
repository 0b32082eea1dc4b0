"""Account pages under /account/ and the Identity webhook (the offline Identity page is
the development-only app ``devstripe``'s)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.apis import export_response
from accounts.forms import (
    ApiKeyCreateForm,
    EraseAccountForm,
    ManualVerificationForm,
)
from accounts.identity import age_verification_start, identity_webhook_receive
from accounts.models import AgeVerificationFlag, User
from accounts.permissions import staff_mfa_required
from accounts.privacy import KEPT_ALWAYS, KEPT_UNDER_LEGAL_HOLD, user_erase
from accounts.roles import user_is_senior_moderator
from accounts.selectors import (
    age_verification_latest,
    api_key_get,
    api_key_list,
    user_effective_account_state,
    user_email_verified,
    user_has_totp,
    user_jurisdiction,
)
from accounts.services import (
    age_verification_flag_resolve,
    age_verification_record_manual,
    api_key_create,
    api_key_revoke,
)
from core.errors import ApplicationError


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def account_overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {
        "email_verified": user_email_verified(user=user),
        "jurisdiction": user_jurisdiction(user=user),
        "account_state": user_effective_account_state(user=user),
        "latest_verification": age_verification_latest(user=user),
        "api_keys": api_key_list(user=user).filter(revoked_at__isnull=True),
        "has_totp": user_has_totp(user=user),
    }
    return render(request, "accounts/overview.html", context)


@login_required
@require_POST
def age_verification_start_view(request: HttpRequest) -> HttpResponse:
    try:
        url = age_verification_start(user=_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:overview")
    return redirect(url)


@login_required
@require_GET
def age_verification_return(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/age_verification_return.html",
        {"latest_verification": age_verification_latest(user=user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    created = None
    form = ApiKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_key_create(
                user=user, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]
            )
            form = ApiKeyCreateForm()
        except ApplicationError as exc:
            messages.error(request, exc.message)
    response = render(
        request,
        "accounts/api_keys.html",
        {"form": form, "api_keys": api_key_list(user=user), "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: Any) -> HttpResponse:
    api_key = api_key_get(user=_user(request), key_id=key_id)
    if api_key is None:
        raise Http404
    api_key_revoke(api_key=api_key)
    messages.success(request, f"The key {api_key.prefix}… is revoked.")
    return redirect("accounts:api-keys")


@login_required
@require_GET
def export_view(request: HttpRequest) -> HttpResponse:
    return export_response(user=_user(request))


@login_required
@require_http_methods(["GET", "POST"])
def erase_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = EraseAccountForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        result = user_erase(user=user)
        logout(request)
        return render(request, "accounts/erased.html", {"kept": result.kept})
    return render(
        request,
        "accounts/erase.html",
        {"form": form, "kept": [*KEPT_ALWAYS, KEPT_UNDER_LEGAL_HOLD]},
    )


@login_required
@staff_mfa_required
@require_http_methods(["GET", "POST"])
def manual_verification_view(request: HttpRequest, user_id: Any) -> HttpResponse:
    """A senior moderator records a manual age verification with the evidence seen."""
    actor = _user(request)
    if not user_is_senior_moderator(actor):
        raise Http404
    subject = get_object_or_404(User, pk=user_id)
    form = ManualVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            age_verification_record_manual(
                user=subject,
                actor=actor,
                is_verified=form.cleaned_data["is_verified"],
                evidence_note=form.cleaned_data["evidence_note"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The manual verification is recorded.")
            return redirect("accounts:manual-verification", user_id=subject.pk)
    flags = AgeVerificationFlag.objects.filter(user=subject).select_related("verification")
    return render(
        request,
        "accounts/manual_verification.html",
        {
            "subject": subject,
            "form": form,
            "flags": flags,
            "verifications": subject.age_verifications.all()[:20],
            "jurisdiction": user_jurisdiction(user=subject),
        },
    )


@csrf_exempt
@require_POST
def identity_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe Identity events (signature required; 400 and nothing stored otherwise)."""
    try:
        result = identity_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    return JsonResponse({"received": True, "result": result})


@login_required
@staff_mfa_required
@require_POST
def flag_resolve_view(request: HttpRequest, flag_id: int) -> HttpResponse:
    actor = _user(request)
    if not user_is_senior_moderator(actor):
        raise Http404
    flag = get_object_or_404(AgeVerificationFlag, pk=flag_id)
    try:
        age_verification_flag_resolve(flag=flag, actor=actor, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The flag is resolved.")
    return redirect("accounts:manual-verification", user_id=flag.user_id)
