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
        from core.stripe_client import offline_stand_in_register
        from devstripe.billing import offline_checkout_complete
        from devstripe.identity import offline_identity_erase_for_user
        from devstripe.transport import offline_transport

        offline_stand_in_register(
            transport=offline_transport,
            checkout_complete=offline_checkout_complete,
            erase_for_user=offline_identity_erase_for_user,
        )
