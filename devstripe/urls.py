"""The stand-ins' pages, at the paths Stripe's hosted pages would be linked from."""

from __future__ import annotations

from django.urls import path

from devstripe import views

app_name = "devstripe"

urlpatterns = [
    path(
        "billing/offline/checkout/<str:session_id>/",
        views.offline_checkout,
        name="offline-checkout",
    ),
    path("billing/offline/portal/", views.offline_portal, name="offline-portal"),
    path(
        "accounts/identity/offline/<str:session_id>/",
        views.identity_offline_view,
        name="identity-offline",
    ),
]
