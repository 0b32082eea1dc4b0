"""The stand-ins' pages (SPEC §10): offline Checkout, the offline customer portal and
the offline Identity document check. Each answers 404 unless ``STRIPE_OFFLINE``."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from billing.credits import credits_balance
from billing.models import Customer, Plan, PlanKind
from core.errors import ApplicationError
from devstripe import billing as offline_billing
from devstripe.forms import OfflineIdentityForm
from devstripe.identity import offline_identity_complete
from devstripe.models import OfflineIdentitySession

# --- Checkout and the Portal ------------------------------------------------------------


def _require_offline() -> None:
    if not settings.STRIPE_OFFLINE:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def offline_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    _require_offline()
    session = offline_billing.store_load(session_id)
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
            session = offline_billing.offline_checkout_complete(session_id=session_id)
            return HttpResponseRedirect(session["success_url"])
        if outcome == "cancel":
            offline_billing.offline_checkout_expire(session_id=session_id)
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
        "devstripe/offline_checkout.html",
        {"session": session, "lines": lines, "amount": session["amount_total"] / 100},
    )


@login_required
@require_http_methods(["GET", "POST"])
def offline_portal(request: HttpRequest) -> HttpResponse:
    _require_offline()
    session = offline_billing.store_load(request.GET.get("session", ""))
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
            offline_billing.offline_portal_action(
                stripe_customer_id=customer.stripe_customer_id, action=action, price_id=price_id
            )
        except LookupError:
            messages.error(request, "There is no live subscription to change.")
        else:
            messages.success(request, "Done. Stripe (offline) sent the events to the site.")
        return HttpResponseRedirect(request.get_full_path())
    subscription = offline_billing.offline_live_subscription(
        stripe_customer_id=customer.stripe_customer_id
    )
    plan = None
    if subscription:
        price_id = subscription["items"]["data"][0]["price"]["id"]
        plan = Plan.objects.filter(stripe_price_id=price_id).first()
    return render(
        request,
        "devstripe/offline_portal.html",
        {
            "portal_session": session,
            "offline_subscription": subscription,
            "offline_plan": plan,
            "other_plans": Plan.objects.filter(kind=PlanKind.SUBSCRIPTION, is_active=True),
            "balance": credits_balance(user=request.user),
        },
    )


# --- Identity ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def identity_offline_view(request: HttpRequest, session_id: str) -> HttpResponse:
    """The offline Identity page (SPEC §10): choose the outcome the document check has."""
    if not settings.STRIPE_OFFLINE:
        raise Http404
    user = cast(User, request.user)  # login_required
    session = OfflineIdentitySession.objects.filter(
        pk=session_id, client_reference_id=str(user.pk)
    ).first()
    if session is None:
        raise Http404
    is_open = session.status == "requires_input" and not session.last_error_code
    form = OfflineIdentityForm(request.POST or None, initial={"date_of_birth": user.date_of_birth})
    if request.method == "POST" and is_open and form.is_valid():
        try:
            offline_identity_complete(
                session=session,
                outcome=form.cleaned_data["outcome"],
                date_of_birth=form.cleaned_data.get("date_of_birth"),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        except ValueError:
            messages.error(request, "This verification is already finished.")
        return redirect(session.return_url or "accounts:age-verification-return")
    return render(
        request,
        "devstripe/identity_offline.html",
        {"session": session, "form": form, "is_open": is_open},
    )
