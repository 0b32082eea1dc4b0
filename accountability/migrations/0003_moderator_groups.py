"""The staff groups the console checks, so that a fresh database can seat moderators."""

from django.db import migrations

GROUPS = ("moderators", "senior_moderators")


def create_groups(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in GROUPS:
        group_model.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0002_statements_appeals_reports_review"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
