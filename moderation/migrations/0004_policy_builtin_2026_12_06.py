"""Publish the December 6 built-in rules as a new policy version (issue 11).

Zero tolerance: a sexual-indicator lexicon and minor indicators in every supported
language (minors + any sexual indicator = sexual_minors) and ``minor_sexual``, the
low classifier threshold used when a minor is named; block and review term groups
for de, es, fr, it, pt, ru, ja, zh, ko and ar; regional thresholds that only the
classifier crosses hold for review. A database whose newest policy is an untouched
built-in default gets them as the next version; an edited policy is left alone
(``manage.py moderation_policy_refresh`` does the same on deploy).
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
            f"{BUILTIN_REASON} (rules of 2026-12-06: sexual indicators and minors in every "
            "language, minor_sexual threshold, term groups for eight more languages, "
            "regional classifier-only thresholds hold for review)."
        ),
        document=document,
    )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0003_policy_builtin_2026_11_29")]

    operations = [migrations.RunPython(publish_builtin, migrations.RunPython.noop)]
