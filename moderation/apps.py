from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"

    def ready(self) -> None:
        """Declare the up-calls the generation app provides (checked, core.E001) and
        register the task the services find by name, in every process. The imports
        are here: these modules import models, not loaded before ready()."""
        from moderation import tasks, upcalls  # noqa: F401
