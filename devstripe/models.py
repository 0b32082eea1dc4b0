"""The stand-ins' copies of what Stripe's servers would keep (development and tests only).

These tables exist only where the ``devstripe`` app is installed: never under the
production settings, whose ``migrate`` has no migration of this app.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OfflineStripeObject(models.Model):
    """A Stripe-shaped object (Checkout Session, Subscription, Invoice…) of the offline
    billing stand-in (``devstripe.billing``)."""

    id = models.CharField(max_length=100, primary_key=True)
    object = models.CharField(max_length=50)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


class OfflineIdentitySession(models.Model):
    """The offline Identity stand-in's copy of a VerificationSession (SPEC §10).

    It plays the part of Stripe's servers: the date of birth chosen on the stand-in
    page lives here, as it would at Stripe, and is served to the webhook handler by
    ``devstripe.identity``.
    """

    id = models.CharField(max_length=64, primary_key=True)
    status = models.CharField(max_length=32, default="requires_input")
    return_url = models.URLField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    client_reference_id = models.CharField(max_length=255, blank=True)
    verified_dob = models.DateField(null=True, blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id
