"""Stripe return links: the request's own host offline, IMAGEGATE_SITE_URL with Stripe."""

from __future__ import annotations

from django.test import override_settings

from core.site import site_url


@override_settings(STRIPE_OFFLINE=True, SITE_URL="http://127.0.0.1:8000")
def test_offline_stand_ins_link_to_a_bare_path_on_the_current_host() -> None:
    assert site_url("/billing/?checkout=success") == "/billing/?checkout=success"


@override_settings(STRIPE_OFFLINE=False, SITE_URL="https://imagegate.example/")
def test_real_stripe_gets_absolute_links_on_the_configured_site() -> None:
    assert site_url("/billing/") == "https://imagegate.example/billing/"
