"""``GET /api/v1/me`` (SPEC §9): the account, its plan and credits, its strikes.

It composes three apps (accounts, billing, moderation), so it lives in the project
layer above all of them; the accounts app keeps the rest of its API.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasScope
from accounts.selectors import user_effective_account_state, user_email_verified, user_jurisdiction
from billing.credits import credits_balance
from billing.entitlements import entitlements_for
from moderation.selectors import user_strike_count


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def plan_and_credits(*, user: User) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """``plan`` and ``credits`` of ``GET /api/v1/me``, from the billing app."""
    entitlements = entitlements_for(user=user)
    plan = None
    if entitlements.plan_code:
        plan = {
            "code": entitlements.plan_code,
            "status": entitlements.status,
            "current_period_end": _iso(entitlements.current_period_end),
        }
    balance = credits_balance(user=user)
    return plan, {"balance": int(balance.balance), "reserved": int(balance.reserved)}


def me_payload(*, user: User) -> dict[str, Any]:
    jurisdiction = user_jurisdiction(user=user)
    plan, credits = plan_and_credits(user=user)
    return {
        "id": str(user.pk),
        "email": user.email,
        "email_verified": user_email_verified(user=user),
        "jurisdiction": {
            "code": jurisdiction.code,
            "country": user.country or None,
            "region": user.region or None,
            "min_age": jurisdiction.min_age,
            "disabled_features": list(jurisdiction.disabled_features or []),
        },
        "account_state": user_effective_account_state(user=user),
        "age_verification": {
            "status": user.age_verification_status,
            "verified_at": _iso(user.age_verified_at),
        },
        "plan": plan,
        "credits": credits,
        "strikes": user_strike_count(user=user),
    }


class MeApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.UUIDField(),
                "email": serializers.EmailField(),
                "email_verified": serializers.BooleanField(),
                "jurisdiction": serializers.DictField(),
                "account_state": serializers.CharField(),
                "age_verification": serializers.DictField(),
                "plan": serializers.DictField(allow_null=True),
                "credits": serializers.DictField(),
                "strikes": serializers.IntegerField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        return Response(me_payload(user=request.user))  # type: ignore[arg-type]
