"""Billing records (SPEC §4): plans, Stripe mirrors, the credit ledger and review flags."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q


class PlanKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    CREDIT_PACK = "credit_pack", "Credit pack"


class Plan(models.Model):
    """What a Stripe Price buys: a subscription's limits and monthly credits, or a pack."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=PlanKind.choices)
    stripe_price_id = models.CharField(max_length=100, unique=True)
    price_display = models.CharField(max_length=40, blank=True, help_text="e.g. €12 / month")
    credits_per_period = models.PositiveIntegerField(
        help_text="Credits granted per paid invoice (subscription) or per pack bought."
    )
    max_side = models.PositiveIntegerField(default=0)
    max_steps = models.PositiveIntegerField(default=0)
    max_images = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=list, blank=True, help_text='e.g. ["photoreal_humans"]')
    plan_rank = models.PositiveSmallIntegerField(default=0, help_text="0 none, 1 premium, 2 pro")
    requests_per_minute = models.PositiveIntegerField(default=0)
    queue_priority = models.PositiveSmallIntegerField(
        default=6, help_text="Celery priority of this plan's jobs (Redis: lower runs first)."
    )
    is_active = models.BooleanField(default=True, help_text="Offered on the pricing page.")

    class Meta:
        ordering = ["kind", "plan_rank", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Customer(models.Model):
    """The Stripe Customer of a user; created by us before the first Checkout."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_customer"
    )
    stripe_customer_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.stripe_customer_id} ({self.user})"


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"


class Subscription(models.Model):
    """A mirror of a Stripe Subscription, written only by the webhook handlers.

    ``last_event_created`` is the Stripe ``created`` time of the event whose payload
    wrote the row; older payloads are ignored so that late deliveries never roll the
    state back.
    """

    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, related_name="+")
    status = models.CharField(max_length=24, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    frozen_by_dispute = models.BooleanField(default=False)
    last_event_created = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} {self.status}"


class StripeEvent(models.Model):
    """Every verified webhook delivery, stored once by Stripe's event id."""

    stripe_event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.BigIntegerField(help_text="Stripe's event.created (Unix seconds)")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=200, blank=True, help_text="What processing did")
    error = models.TextField(blank=True)
    parked_on = models.CharField(
        max_length=150,
        blank=True,
        db_index=True,
        help_text="The link it waits for (customer:…, identity_session:…)",
    )
    redrive_after = models.DateTimeField(
        null=True, blank=True, help_text="When the periodic re-drive may pick it up again"
    )

    class Meta:
        ordering = ["-received_at"]
        permissions = [("replay_stripeevent", "Can replay Stripe events")]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type}"


class CreditAccount(models.Model):
    """A user's credits: ``balance`` is spendable, ``reserved`` is held by running jobs.

    Changed only under ``select_for_update`` by ``billing.credits``; never negative.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_account"
    )
    balance = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("adjust_credits", "Can adjust credit balances")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="billing_credit_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="billing_credit_reserved_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.balance} (+{self.reserved} reserved)"


class LedgerKind(models.TextChoices):
    GRANT = "grant", "Grant"
    RESERVE = "reserve", "Reserve"
    COMMIT = "commit", "Commit"
    RELEASE = "release", "Release"
    ADJUSTMENT = "adjustment", "Adjustment"


@pgtrigger.register(
    pgtrigger.Protect(
        name="credit_ledger_append_only", operation=pgtrigger.Update | pgtrigger.Delete
    )
)
class CreditLedgerEntry(models.Model):
    """One append-only movement of credits.

    ``amount`` is positive for grant, reserve, commit and release (the direction is the
    kind's) and signed for adjustments. The unique constraints make a grant per
    reference (an invoice, a checkout session), a reservation per reference and its
    settlement (commit or release) happen at most once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_ledger"
    )
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    balance_after = models.BigIntegerField()
    reserved_after = models.BigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "credit ledger entry"
        verbose_name_plural = "credit ledger entries"
        indexes = [models.Index(fields=["reference"])]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(kind="grant"),
                name="billing_ledger_one_grant_per_reference",
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(kind="reserve"),
                name="billing_ledger_one_reservation_per_reference",
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(kind__in=["commit", "release"]),
                name="billing_ledger_one_settlement_per_reservation",
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(kind="adjustment") & ~Q(reference=""),
                name="billing_ledger_one_adjustment_per_reference",
            ),
            models.CheckConstraint(
                condition=Q(kind="adjustment") | Q(amount__gt=0),
                name="billing_ledger_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | ~Q(reason=""),
                name="billing_ledger_adjustment_has_reason",
            ),
        ]

    def __str__(self) -> str:
        # No reference: a generation's id would tell billing admins about moderation.
        return f"{self.kind} {self.amount} (entry {self.pk})"


class CreditPurchase(models.Model):
    """A paid credit-pack Checkout Session; refunds claw back from it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_purchases"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    stripe_checkout_session_id = models.CharField(max_length=100, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    credits = models.PositiveIntegerField()
    amount_total = models.PositiveIntegerField(default=0, help_text="Minor units")
    currency = models.CharField(max_length=3, blank=True)
    amount_refunded = models.PositiveIntegerField(default=0)
    credits_clawed_back = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("refund_creditpurchase", "Can refund credit purchases through Stripe")]

    def __str__(self) -> str:
        return f"{self.credits} credits ({self.stripe_checkout_session_id})"


class ReviewFlagKind(models.TextChoices):
    DISPUTE = "dispute", "Payment dispute"


class BillingReviewFlag(models.Model):
    """An account flagged for billing review; an open dispute flag freezes generation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_flags"
    )
    kind = models.CharField(max_length=16, choices=ReviewFlagKind.choices)
    stripe_object_id = models.CharField(max_length=100, unique=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("resolve_billingreviewflag", "Can resolve billing review flags")]

    def __str__(self) -> str:
        return f"{self.kind} {self.stripe_object_id} ({self.user})"
