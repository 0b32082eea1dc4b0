from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self) -> None:
        """Provide the lower apps' up-calls (core/upcalls.py) and
        register the tasks that the services find by name, in every process. The
        imports are here: these modules import models, not loaded before ready()."""
        from accounts.upcalls import generations_erase, generations_export
        from generation import (
            checks,  # noqa: F401  (registers the system checks)
            tasks,  # noqa: F401  (registers generation.run_job & co.)
        )
        from generation.privacy import generation_erase_for_user, generation_export_for_user
        from generation.services import (
            generation_block,
            generation_enqueue_gpu,
            generation_hold_for_review,
        )
        from moderation.upcalls import (
            prompt_check_allowed,
            prompt_check_blocked,
            prompt_check_unsure,
        )

        generations_export.provide(generation_export_for_user)
        generations_erase.provide(generation_erase_for_user)
        prompt_check_allowed.provide(generation_enqueue_gpu)
        prompt_check_unsure.provide(generation_hold_for_review)
        prompt_check_blocked.provide(generation_block)
