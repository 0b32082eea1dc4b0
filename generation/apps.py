from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self) -> None:
        from accounts.privacy import erasure_step_register, export_section_register
        from generation import checks  # noqa: F401  (registers the system checks)
        from generation.privacy import generation_erase_for_user, generation_export_for_user

        export_section_register("generations", generation_export_for_user)
        erasure_step_register("generations", generation_erase_for_user)
