from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "account_state", "age_verification_status", "country", "is_staff"]
    list_filter = ["account_state", "age_verification_status", "is_staff", "groups"]
    search_fields = ["email"]
    readonly_fields = ["date_joined", "last_login", "age_verified_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("date_of_birth", "country", "region", "time_zone")}),
        ("State", {"fields": ("account_state", "account_state_reason", "cooldown_until")}),
        ("Age", {"fields": ("age_verification_status", "age_verified_at")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
