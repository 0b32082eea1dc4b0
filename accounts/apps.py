from django.apps import AppConfig
from django.db.models.signals import post_migrate

from accounts import upcalls  # noqa: F401  (declares the up-calls billing provides)


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth scheme)
        from accounts.roles import seat_staff_groups

        # After Django's own create_permissions (connected earlier, by auth).
        post_migrate.connect(seat_staff_groups, sender=self, dispatch_uid="seat_staff_groups")
