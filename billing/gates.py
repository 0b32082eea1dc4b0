"""The billing gate of the generation gate order (docs/architecture.md, step 3)."""

from __future__ import annotations

from billing.entitlements import Entitlements
from core.errors import ApplicationError, ErrorCode


def gate_plan_active(*, entitlements: Entitlements) -> None:
    """403 ``subscription_required`` unless the plan is active (or past due within grace).

    A subscription frozen by a payment dispute is not active.
    """
    if not entitlements.is_active:
        details: dict[str, str] = {}
        if entitlements.status:
            details["status"] = entitlements.status
        if entitlements.is_frozen:
            details["reason"] = "payment_dispute"
        raise ApplicationError(ErrorCode.SUBSCRIPTION_REQUIRED, details=details)
