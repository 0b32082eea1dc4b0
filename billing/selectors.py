"""Billing reads for pages and other apps."""

from __future__ import annotations

from typing import Any

from billing.credits import credits_balance
from billing.entitlements import current_subscription, entitlements_for
from billing.models import BillingReviewFlag, CreditLedgerEntry, Customer


def billing_summary(*, user: Any) -> dict[str, Any]:
    """What the billing account page shows: plan, status, renewal, credits, history."""
    return {
        "entitlements": entitlements_for(user=user),
        "subscription": current_subscription(user=user),
        "balance": credits_balance(user=user),
        "has_customer": Customer.objects.filter(user=user).exists(),
        "is_under_review": BillingReviewFlag.objects.filter(
            user=user, resolved_at__isnull=True
        ).exists(),
        "ledger": CreditLedgerEntry.objects.filter(user=user).order_by("-id")[:20],
    }
