from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"

    def ready(self) -> None:
        # Declares the up-calls the generation app must provide (checked, core.E001).
        # In ready(): the module imports models, which are not loaded before it.
        from moderation import upcalls  # noqa: F401
