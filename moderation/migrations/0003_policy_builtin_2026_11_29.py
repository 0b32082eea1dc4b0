"""Publish the November 29 built-in rules and head thresholds as a new policy version.

The rules (context groups, new and multilingual terms) and the retrained head's
thresholds ship in ``moderation/data``; a database whose newest policy is still an
untouched built-in default gets them as the next version. A policy that moderators
have edited is left alone: they publish the new rules themselves in the editor.
"""

from django.db import migrations


def publish_builtin(apps, schema_editor):
    from moderation.policy import BUILTIN_REASON, builtin_update

    PolicyVersion = apps.get_model("moderation", "PolicyVersion")
    newest = PolicyVersion.objects.order_by("-number").first()
    if newest is None:
        return
    document = builtin_update(newest.reason, newest.document)
    if document is None:
        return
    PolicyVersion.objects.create(
        number=newest.number + 1,
        created_by=None,
        reason=(
            f"{BUILTIN_REASON} (rules of 2026-11-29: help, pretend and education context; "
            "retrained text head and its thresholds)."
        ),
        document=document,
    )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_policy_version_1")]

    operations = [migrations.RunPython(publish_builtin, migrations.RunPython.noop)]
