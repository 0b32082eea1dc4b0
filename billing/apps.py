from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Provides the accounts app's up-call (core/upcalls.py). In ready(): these
        # modules import models, which are not loaded before it.
        from accounts.upcalls import identity_session_created
        from billing.redrive import identity_session_wake

        identity_session_created.provide(identity_session_wake)
