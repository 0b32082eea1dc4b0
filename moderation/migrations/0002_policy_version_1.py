"""Policy version 1: the engine's built-in rules and thresholds (moderation/data)."""

from django.db import migrations


def create_version_1(apps, schema_editor):
    from moderation.policy import default_policy_document

    PolicyVersion = apps.get_model("moderation", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    PolicyVersion.objects.create(
        number=1,
        created_by=None,
        reason="Built-in default policy (engine rules and thresholds).",
        document=default_policy_document(),
    )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(create_version_1, migrations.RunPython.noop)]
