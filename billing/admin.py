"""The billing back office (SPEC §1, §4) for the ``billing_admins`` group.

Synced Stripe mirrors and the ledger are read-only; every change a billing admin
makes (adjustments, refunds, replays, resolving a review flag) goes through a
service that writes the audit log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from billing.credits import credits_adjust
from billing.models import (
    BillingReviewFlag,
    CreditAccount,
    CreditLedgerEntry,
    CreditPurchase,
    Customer,
    Plan,
    StripeEvent,
    Subscription,
)
from billing.services import credit_purchase_refund, review_flag_resolve, stripe_event_replay
from core.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=True)


class AdjustmentForm(ReasonForm):
    amount = forms.IntegerField(help_text="Positive adds credits, negative takes them away.")

    def clean_amount(self) -> int:
        amount = int(self.cleaned_data["amount"])
        if amount == 0:
            raise forms.ValidationError("Enter a non-zero amount.")
        return amount


def _intermediate(
    request: HttpRequest,
    *,
    title: str,
    form: forms.Form,
    queryset: QuerySet[Any],
    action: str,
    model_admin: admin.ModelAdmin,
) -> HttpResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": list(queryset),
        "action": action,
        "opts": model_admin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "billing/admin/reason_action.html", context)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "stripe_price_id",
        "credits_per_period",
        "max_side",
        "max_steps",
        "max_images",
        "requests_per_minute",
        "is_active",
    )
    list_filter = ("kind", "is_active")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("stripe_customer_id", "user", "created_at")
    search_fields = ("stripe_customer_id", "user__email")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_subscription_id",
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "frozen_by_dispute",
    )
    list_filter = ("status", "plan", "cancel_at_period_end", "frozen_by_dispute")
    search_fields = ("stripe_subscription_id", "user__email")


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "reserved", "updated_at")
    search_fields = ("user__email",)
    actions = ["adjust_credits"]

    @admin.action(description="Adjust credits (reason required)", permissions=["adjust"])
    def adjust_credits(
        self, request: HttpRequest, queryset: QuerySet[CreditAccount]
    ) -> HttpResponse | None:
        form = AdjustmentForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for account in queryset.select_related("user"):
                try:
                    credits_adjust(
                        user=account.user,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                    done += 1
                except ApplicationError as exc:
                    self.message_user(request, f"{account.user}: {exc.message}", messages.ERROR)
            self.message_user(request, f"Adjusted {done} account(s).", messages.SUCCESS)
            return None
        return _intermediate(
            request,
            title="Adjust credits",
            form=form,
            queryset=queryset,
            action="adjust_credits",
            model_admin=self,
        )

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.adjust_credits")


# Billing admins see money, never moderation (SPEC §1): a refund of a generation says
# only that it was refunded, and the job it belongs to is not named.
GENERATION_REFERENCE_PREFIX = "generation:"
BILLING_REASON_FOR_GENERATION = "generation not delivered: refunded"


def _sees_moderation(request: HttpRequest) -> bool:
    return bool(request.user.is_superuser)


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "reserved_after",
        "reference",
        "reason",
        "created_by",
    )
    list_filter = ("kind",)
    search_fields = ("user__email", "reference")

    def get_list_display(self, request: HttpRequest) -> Any:
        if _sees_moderation(request):
            return self.list_display
        return tuple(
            {"reference": "billing_reference", "reason": "billing_reason"}.get(name, name)
            for name in self.list_display
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_list_display(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_list_display(request)

    def get_search_fields(self, request: HttpRequest) -> Any:
        return self.search_fields if _sees_moderation(request) else ("user__email",)

    @admin.display(description="reference")
    def billing_reference(self, entry: CreditLedgerEntry) -> str:
        if entry.reference.startswith(GENERATION_REFERENCE_PREFIX):
            return "generation"
        return entry.reference

    @admin.display(description="reason")
    def billing_reason(self, entry: CreditLedgerEntry) -> str:
        if entry.reference.startswith(GENERATION_REFERENCE_PREFIX) and entry.kind == "release":
            return BILLING_REASON_FOR_GENERATION
        return entry.reason


@admin.register(CreditPurchase)
class CreditPurchaseAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "plan",
        "credits",
        "amount_total",
        "currency",
        "amount_refunded",
        "credits_clawed_back",
    )
    search_fields = ("user__email", "stripe_checkout_session_id", "stripe_payment_intent_id")
    actions = ["refund"]

    @admin.action(description="Refund through Stripe (reason required)", permissions=["refund"])
    def refund(
        self, request: HttpRequest, queryset: QuerySet[CreditPurchase]
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for purchase in queryset:
                try:
                    refund_id = credit_purchase_refund(
                        purchase=purchase, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"{purchase}: {exc.message}", messages.ERROR)
                except Exception as exc:  # a Stripe error: show it, change nothing here
                    self.message_user(request, f"{purchase}: Stripe said {exc}", messages.ERROR)
                else:
                    self.message_user(request, f"{purchase}: refund {refund_id} created.")
            return None
        return _intermediate(
            request,
            title="Refund credit purchases",
            form=form,
            queryset=queryset,
            action="refund",
            model_admin=self,
        )

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.refund_creditpurchase")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_event_id",
        "type",
        "created",
        "received_at",
        "processed_at",
        "attempts",
        "outcome",
        "parked_on",
        "error",
    )
    list_filter = ("type", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("stripe_event_id", "parked_on")
    actions = ["replay"]

    @admin.action(description="Replay (process again)", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        for event in queryset:
            stripe_event_replay(event=event, actor=request.user)
        self.message_user(request, f"Queued {queryset.count()} event(s) for processing.")

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.replay_stripeevent")


@admin.register(BillingReviewFlag)
class BillingReviewFlagAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "stripe_object_id", "resolved_at", "resolved_by")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "stripe_object_id")
    actions = ["resolve"]

    @admin.action(description="Resolve (unfreezes generation)", permissions=["resolve"])
    def resolve(
        self, request: HttpRequest, queryset: QuerySet[BillingReviewFlag]
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for flag in queryset:
                review_flag_resolve(
                    flag=flag, actor=request.user, resolution=form.cleaned_data["reason"]
                )
            self.message_user(request, f"Resolved {queryset.count()} flag(s).")
            return None
        return _intermediate(
            request,
            title="Resolve review flags",
            form=form,
            queryset=queryset,
            action="resolve",
            model_admin=self,
        )

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.resolve_billingreviewflag")
