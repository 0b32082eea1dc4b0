from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/", views.account, name="account"),
    path("billing/checkout/<slug:plan_code>/", views.checkout, name="checkout"),
    path("billing/portal/", views.portal, name="portal"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
]
