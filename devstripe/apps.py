from django.apps import AppConfig


class DevStripeConfig(AppConfig):
    """The offline Stripe stand-ins (SPEC §10): development and test settings only."""

    name = "devstripe"
    verbose_name = "Offline Stripe stand-ins (development)"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        if settings.IMAGEGATE_PRODUCTION:
            raise ImproperlyConfigured(
                "The offline Stripe stand-ins (devstripe) are never installed in production."
            )
        from accounts.identity import identity_offline_transport_register
        from accounts.privacy import erasure_step_register
        from billing.stripe_client import offline_stand_in_register
        from devstripe.billing import OfflineStripeTransport, offline_checkout_complete
        from devstripe.identity import OfflineStripeHTTPClient, offline_identity_erase_for_user

        offline_stand_in_register(
            transport=OfflineStripeTransport, checkout_complete=offline_checkout_complete
        )
        identity_offline_transport_register(OfflineStripeHTTPClient)
        erasure_step_register("offline_identity_sessions", offline_identity_erase_for_user)
