from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accountability.audit import audit_record
from accounts.models import (
    AgeVerification,
    AgeVerificationFlag,
    ApiKey,
    IdentityEvent,
    Jurisdiction,
    User,
)
from accounts.roles import user_is_senior_moderator
from accounts.services import api_key_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "account_state", "age_verification_status", "country", "is_staff"]
    list_filter = ["account_state", "age_verification_status", "is_staff", "groups"]
    search_fields = ["email"]
    readonly_fields = [
        "date_joined",
        "last_login",
        "age_verification_status",
        "age_verified_at",
        "manual_verification_link",
    ]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("date_of_birth", "country", "region", "time_zone")}),
        ("State", {"fields": ("account_state", "account_state_reason", "cooldown_until")}),
        (
            "Age",
            {"fields": ("age_verification_status", "age_verified_at", "manual_verification_link")},
        ),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.display(description="Manual age verification")
    def manual_verification_link(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("accounts:manual-verification", kwargs={"user_id": obj.pk})
        return format_html('<a href="{}">Record a manual verification (senior moderators)</a>', url)

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        # Account states change through account_set_state elsewhere; here we audit admin edits.
        before = (
            {field: str(form.initial.get(field)) for field in form.changed_data} if change else {}
        )
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="accounts.user.admin_change" if change else "accounts.user.admin_add",
            target=obj,
            before=before,
            after={
                field: ("(changed)" if field == "password" else str(getattr(obj, field, "")))
                for field in form.changed_data
                if field not in {"password1", "password2"}
            },
            reason="Django admin",
        )


class SeniorModeratorAdmin(admin.ModelAdmin):
    """Visible to senior moderators (and superusers) without model permissions."""

    def _is_senior(self, request: HttpRequest) -> bool:
        return user_is_senior_moderator(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_senior(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_senior(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Jurisdiction)
class JurisdictionAdmin(SeniorModeratorAdmin):
    list_display = ["code", "name", "min_age", "disabled_features", "updated_at"]
    search_fields = ["country", "region", "name"]
    fields = [
        "country",
        "region",
        "name",
        "min_age",
        "disabled_features",
        "moderation_overrides",
        "notes",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_senior(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_senior(request)

    def save_model(
        self, request: HttpRequest, obj: Jurisdiction, form: ModelForm, change: bool
    ) -> None:
        before = {field: form.initial.get(field) for field in form.changed_data} if change else {}
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="accounts.jurisdiction.change" if change else "accounts.jurisdiction.add",
            target=obj,
            before=before,
            after={field: getattr(obj, field) for field in form.changed_data},
            reason="Django admin",
        )


@admin.register(AgeVerification)
class AgeVerificationAdmin(SeniorModeratorAdmin):
    list_display = ["user", "method", "outcome", "min_age", "created_at", "checked_at"]
    list_filter = ["method", "outcome"]
    search_fields = ["user__email", "session_id"]
    readonly_fields = [
        "user",
        "method",
        "outcome",
        "session_id",
        "min_age",
        "created_at",
        "checked_at",
        "decided_by",
        "evidence_note",
    ]


@admin.register(AgeVerificationFlag)
class AgeVerificationFlagAdmin(SeniorModeratorAdmin):
    list_display = ["user", "reason", "status", "created_at", "review_link"]
    list_filter = ["status", "reason"]
    search_fields = ["user__email"]
    readonly_fields = [
        "user",
        "verification",
        "reason",
        "status",
        "created_at",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "review_link",
    ]

    @admin.display(description="Review")
    def review_link(self, obj: AgeVerificationFlag) -> str:
        url = reverse("accounts:manual-verification", kwargs={"user_id": obj.user_id})
        return format_html('<a href="{}">Review and resolve</a>', url)


@admin.register(IdentityEvent)
class IdentityEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "session_id", "result", "received_at"]
    list_filter = ["type", "result"]
    search_fields = ["event_id", "session_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__email", "name"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
            audit_record(
                actor=request.user,
                action="accounts.api_key.admin_revoke",
                target=api_key,
                reason="Django admin",
            )
