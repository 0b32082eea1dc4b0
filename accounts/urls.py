"""Web routes of the accounts app: /account/ pages and /accounts/ Identity endpoints."""

from __future__ import annotations

from django.urls import path

from accounts import views
from accounts.throttle import ThrottledLoginView

app_name = "accounts"

urlpatterns = [
    # allauth's login view with throttled attempts answered 429 (accounts/throttle.py).
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("account/", views.account_overview, name="overview"),
    path(
        "account/age-verification/start/",
        views.age_verification_start_view,
        name="age-verification-start",
    ),
    path(
        "account/age-verification/return/",
        views.age_verification_return,
        name="age-verification-return",
    ),
    path("account/api-keys/", views.api_keys_page, name="api-keys"),
    path(
        "account/api-keys/<uuid:key_id>/revoke/", views.api_key_revoke_view, name="api-key-revoke"
    ),
    path("account/export/", views.export_view, name="export"),
    path("account/delete/", views.erase_view, name="erase"),
    path(
        "account/staff/age-verification/<uuid:user_id>/",
        views.manual_verification_view,
        name="manual-verification",
    ),
    path(
        "account/staff/age-verification-flags/<int:flag_id>/resolve/",
        views.flag_resolve_view,
        name="flag-resolve",
    ),
    path("accounts/stripe/identity-webhook/", views.identity_webhook, name="identity-webhook"),
]
