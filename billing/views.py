"""Billing pages: pricing, the billing account, Checkout/Portal redirects and the webhook.
The offline stand-ins of Checkout and the Portal are the development-only app
``devstripe``'s (SPEC §10)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.entitlements import entitlements_for
from billing.models import CreditLedgerEntry, Plan, PlanKind
from billing.selectors import billing_summary
from billing.services import checkout_session_create, portal_session_create
from billing.webhooks import stripe_event_receive
from core.errors import ApplicationError
from core.http import json_object_from_body

logger = logging.getLogger(__name__)


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    plans = Plan.objects.filter(is_active=True)
    context = {
        "subscription_plans": [p for p in plans if p.kind == PlanKind.SUBSCRIPTION],
        "credit_packs": [p for p in plans if p.kind == PlanKind.CREDIT_PACK],
        "entitlements": entitlements_for(user=request.user),
    }
    return render(request, "billing/pricing.html", context)


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    # Back from a paid Checkout before Stripe's webhook has landed: say so, poll, and
    # offer no Subscribe button meanwhile (it would invite a second purchase).
    # Activation is done when the plan is live and its first credits are granted
    # (two webhook events, which may land in either order). It is decided before the
    # figures are read: a grant landing in between then shows on the next poll, rather
    # than ending the polling with the balance read before it.
    activating = request.GET.get("checkout") == "success" and (
        not entitlements_for(user=request.user).is_active
        or not CreditLedgerEntry.objects.filter(user_id=str(request.user.pk), kind="grant").exists()
    )
    context = billing_summary(user=request.user)
    context["credit_packs"] = Plan.objects.filter(is_active=True, kind=PlanKind.CREDIT_PACK)
    context["subscription_plans"] = Plan.objects.filter(is_active=True, kind=PlanKind.SUBSCRIPTION)
    context["activating"] = activating
    return render(request, "billing/account.html", context)


@login_required
@require_POST
def checkout(request: HttpRequest, plan_code: str) -> HttpResponse:
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    try:
        url = checkout_session_create(user=request.user, plan_code=plan_code, quantity=quantity)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:account")
    return HttpResponseRedirect(url)


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        url = portal_session_create(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:account")
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store once and answer; processing happens in a task."""
    try:
        # A JSON object of bounded depth, checked before the library parses it again
        # (deep nesting or a top-level array must be a 400, not a server error).
        json_object_from_body(request.body)
        _event, created = stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    return JsonResponse({"received": True, "duplicate": not created})
