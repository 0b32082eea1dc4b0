"""Read-only admin views of moderation records.

Policy is published through ``moderation.policy.policy_publish`` (the console's
editor), strikes through the services: the admin never edits them. Access follows
Django's view permissions, which billing admins do not hold.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from moderation.models import ModerationDecision, PolicyVersion, PromptLog, Strike


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "created_at", "created_by", "reason")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "stage", "decision", "category", "layer", "policy_version")
    list_filter = ("stage", "decision", "category", "layer")
    raw_id_fields = ("user", "prompt_log", "follows", "decided_by", "policy_version")


@admin.register(PromptLog)
class PromptLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user_id", "decision", "category", "jurisdiction")
    list_filter = ("decision", "category")


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "category", "severity", "revoked_at")
    list_filter = ("category",)
    raw_id_fields = ("user", "decision", "created_by", "revoked_by")
