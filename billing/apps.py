from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        """Provide the up-calls of accounts and core (core/upcalls.py) and register the tasks
        that ``billing.redrive`` finds by name, in every process. The imports are
        here: these modules import models, not loaded before ready()."""
        from accounts.upcalls import identity_session_created
        from billing import tasks  # noqa: F401  (registers billing.process_stripe_event)
        from billing.offline_transport import offline_transport
        from billing.redrive import identity_session_wake
        from core.stripe_client import offline_stripe_transport

        identity_session_created.provide(identity_session_wake)
        offline_stripe_transport.provide(offline_transport)
