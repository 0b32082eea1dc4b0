"""Seed the plans of SPEC §4; Stripe Price ids come from STRIPE_PRICE_* at migrate time."""

from django.conf import settings
from django.db import migrations

PLANS = [
    {
        "code": "premium",
        "name": "Premium",
        "kind": "subscription",
        "setting": "STRIPE_PRICE_PREMIUM",
        "price_display": "€12 / month",
        "credits_per_period": 1000,
        "max_side": 768,
        "max_steps": 30,
        "max_images": 1,
        "features": [],
        "plan_rank": 1,
        "requests_per_minute": 10,
        "queue_priority": 6,
    },
    {
        "code": "pro",
        "name": "Pro",
        "kind": "subscription",
        "setting": "STRIPE_PRICE_PRO",
        "price_display": "€30 / month",
        "credits_per_period": 4000,
        "max_side": 1024,
        "max_steps": 50,
        "max_images": 4,
        "features": ["photoreal_humans"],
        "plan_rank": 2,
        "requests_per_minute": 30,
        "queue_priority": 3,
    },
    {
        "code": "credits-500",
        "name": "500 credits",
        "kind": "credit_pack",
        "setting": "STRIPE_PRICE_CREDIT_PACK",
        "price_display": "€5, once",
        "credits_per_period": 500,
        "max_side": 0,
        "max_steps": 0,
        "max_images": 0,
        "features": [],
        "plan_rank": 0,
        "requests_per_minute": 0,
        "queue_priority": 6,
    },
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for spec in PLANS:
        values = {k: v for k, v in spec.items() if k not in ("code", "setting")}
        values["stripe_price_id"] = getattr(settings, spec["setting"])
        Plan.objects.get_or_create(code=spec["code"], defaults=values)


def unseed(apps, schema_editor):
    apps.get_model("billing", "Plan").objects.filter(code__in=[p["code"] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
