"""Billing pages: pricing, the billing account, Checkout/Portal redirects, the webhook,
and the offline stand-ins of Checkout and the Portal (SPEC §10)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import offline_stripe
from billing.credits import credits_balance
from billing.entitlements import entitlements_for
from billing.models import CreditLedgerEntry, Customer, Plan, PlanKind
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


# --- Offline stand-ins -----------------------------------------------------------------


def _require_offline() -> None:
    if not settings.STRIPE_OFFLINE:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def offline_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    _require_offline()
    session = offline_stripe.store_load(session_id)
    customer = Customer.objects.filter(user_id=str(request.user.pk)).first()
    if (
        session is None
        or session.get("object") != "checkout.session"
        or customer is None
        or session.get("customer") != customer.stripe_customer_id
    ):
        raise Http404
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome == "pay" and session["status"] == "open":
            session = offline_stripe.offline_checkout_complete(session_id=session_id)
            return HttpResponseRedirect(session["success_url"])
        if outcome == "cancel":
            offline_stripe.offline_checkout_expire(session_id=session_id)
            return HttpResponseRedirect(session["cancel_url"])
        if outcome == "decline":
            messages.error(request, "Your card was declined (offline test). Nothing was charged.")
    items = session.get("offline_line_items") or []
    plans = {p.stripe_price_id: p for p in Plan.objects.all()}
    lines = [
        {"plan": plans.get(str(i.get("price"))), "quantity": int(i.get("quantity") or 1)}
        for i in items
    ]
    return render(
        request,
        "billing/offline_checkout.html",
        {"session": session, "lines": lines, "amount": session["amount_total"] / 100},
    )


@login_required
@require_http_methods(["GET", "POST"])
def offline_portal(request: HttpRequest) -> HttpResponse:
    _require_offline()
    session = offline_stripe.store_load(request.GET.get("session", ""))
    customer = Customer.objects.filter(user_id=str(request.user.pk)).first()
    if (
        session is None
        or session.get("object") != "billing_portal.session"
        or customer is None
        or session.get("customer") != customer.stripe_customer_id
    ):
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        price_id = ""
        if action == "switch":
            plan = Plan.objects.filter(
                code=request.POST.get("plan_code", ""), kind=PlanKind.SUBSCRIPTION
            ).first()
            if plan is None:
                raise Http404
            price_id = plan.stripe_price_id
        try:
            offline_stripe.offline_portal_action(
                stripe_customer_id=customer.stripe_customer_id, action=action, price_id=price_id
            )
        except LookupError:
            messages.error(request, "There is no live subscription to change.")
        else:
            messages.success(request, "Done. Stripe (offline) sent the events to the site.")
        return HttpResponseRedirect(request.get_full_path())
    subscription = offline_stripe.offline_live_subscription(
        stripe_customer_id=customer.stripe_customer_id
    )
    plan = None
    if subscription:
        price_id = subscription["items"]["data"][0]["price"]["id"]
        plan = Plan.objects.filter(stripe_price_id=price_id).first()
    return render(
        request,
        "billing/offline_portal.html",
        {
            "portal_session": session,
            "offline_subscription": subscription,
            "offline_plan": plan,
            "other_plans": Plan.objects.filter(kind=PlanKind.SUBSCRIPTION, is_active=True),
            "balance": credits_balance(user=request.user),
        },
    )
