"""API v1 routes of the accounts app, included under /api/v1/ (``me`` itself is composed
in the project layer: imagegate/me.py)."""

from __future__ import annotations

from django.urls import path

from accounts import apis

urlpatterns = [
    path("me/export", apis.MeExportApi.as_view(), name="api-me-export"),
    path("api-keys", apis.ApiKeyListCreateApi.as_view(), name="api-keys"),
    path("api-keys/<uuid:key_id>", apis.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    path("age-verification", apis.AgeVerificationStartApi.as_view(), name="api-age-verification"),
]
