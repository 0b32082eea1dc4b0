"""The ``billing_admins`` group and its permissions: billing models only.

No permission on generation, moderation or accountability models is ever given to
this group: billing admins see no prompts, images or moderation data (SPEC §1).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "billing_admins"
# codename → the model's permissions the group holds
PERMISSIONS = {
    "plan": ["view", "add", "change"],
    "customer": ["view"],
    "subscription": ["view"],
    "stripeevent": ["view", "replay"],
    "creditaccount": ["view", "adjust"],
    "creditledgerentry": ["view"],
    "creditpurchase": ["view", "refund"],
    "billingreviewflag": ["view", "resolve"],
}
CUSTOM = {
    ("stripeevent", "replay"): "replay_stripeevent",
    ("creditaccount", "adjust"): "adjust_credits",
    ("creditpurchase", "refund"): "refund_creditpurchase",
    ("billingreviewflag", "resolve"): "resolve_billingreviewflag",
}


def codenames():
    for model, actions in PERMISSIONS.items():
        for action in actions:
            yield CUSTOM.get((model, action), f"{action}_{model}")


def grant(apps, schema_editor):
    billing_config = apps.get_app_config("billing")
    billing_config.models_module = True
    create_permissions(billing_config, apps=apps, verbosity=0)
    billing_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = list(codenames())
    permissions = Permission.objects.filter(content_type__app_label="billing", codename__in=wanted)
    assert permissions.count() == len(wanted), "billing permissions missing"
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=GROUP).first()
    if group:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="billing"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_seed_plans"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
