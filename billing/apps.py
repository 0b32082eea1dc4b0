from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        """Provide the up-call of accounts (core/upcalls.py) and register the tasks
        that ``billing.redrive`` finds by name, in every process. The imports are
        here: these modules import models, not loaded before ready()."""
        from accounts.upcalls import identity_session_created
        from billing import (
            plans,  # noqa: F401  (clears the plan-rank cache on Plan saves)
            tasks,  # noqa: F401  (registers billing.process_stripe_event)
        )
        from billing.redrive import identity_session_wake

        identity_session_created.provide(identity_session_wake)
