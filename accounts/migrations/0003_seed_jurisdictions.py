"""Seed the jurisdictions table: the default (18) and real examples.

Minimum ages are the ages of majority in force (sources in ``notes``). Disabled features
and threshold overrides are policy choices informed by the local law named in ``notes``;
senior moderators edit them in admin.
"""

from django.db import migrations

JURISDICTIONS = [
    {
        "country": "",
        "region": "",
        "name": "Default",
        "min_age": 18,
        "notes": "Applies wherever no more specific row exists.",
    },
    {
        "country": "US",
        "region": "US-AL",
        "name": "Alabama, United States",
        "min_age": 19,
        "notes": "Age of majority 19: Code of Alabama § 26-1-1.",
    },
    {
        "country": "US",
        "region": "US-NE",
        "name": "Nebraska, United States",
        "min_age": 19,
        "notes": "Age of majority 19: Nebraska Revised Statutes § 43-2101.",
    },
    {
        "country": "US",
        "region": "US-MS",
        "name": "Mississippi, United States",
        "min_age": 21,
        "notes": "Age of majority 21: Mississippi Code § 1-3-27.",
    },
    {
        "country": "CA",
        "region": "CA-BC",
        "name": "British Columbia, Canada",
        "min_age": 19,
        "notes": "Age of majority 19: Age of Majority Act, RSBC 1996, c. 7.",
    },
    {
        "country": "JP",
        "region": "",
        "name": "Japan",
        "min_age": 18,
        "notes": "Age of majority 18 since 1 April 2022 (Civil Code art. 4, as amended in 2018).",
    },
    {
        "country": "KR",
        "region": "",
        "name": "South Korea",
        "min_age": 19,
        "disabled_features": ["adult_content"],
        "notes": (
            "Age of majority 19: Civil Act art. 4. Distribution of obscene material is an "
            "offence (Criminal Act art. 243; Network Act art. 44-7), so adult content is off."
        ),
    },
    {
        "country": "DE",
        "region": "",
        "name": "Germany",
        "min_age": 18,
        "moderation_overrides": {
            "hate": {"allow": 0.2, "block": 0.6},
            "violence_graphic": {"allow": 0.25, "block": 0.7},
        },
        "notes": (
            "Age of majority 18: BGB § 2. Stricter thresholds for hate (StGB §§ 86a, 130) "
            "and depictions of violence (StGB § 131)."
        ),
    },
    {
        "country": "GB",
        "region": "",
        "name": "United Kingdom",
        "min_age": 18,
        "notes": "Age of majority 18: Family Law Reform Act 1969 s. 1; Online Safety Act 2023.",
    },
]


def seed(apps, schema_editor):
    Jurisdiction = apps.get_model("accounts", "Jurisdiction")
    for row in JURISDICTIONS:
        Jurisdiction.objects.update_or_create(
            country=row["country"],
            region=row["region"],
            defaults={
                "name": row["name"],
                "min_age": row["min_age"],
                "disabled_features": row.get("disabled_features", []),
                "moderation_overrides": row.get("moderation_overrides", {}),
                "notes": row["notes"],
            },
        )


def unseed(apps, schema_editor):
    Jurisdiction = apps.get_model("accounts", "Jurisdiction")
    for row in JURISDICTIONS:
        Jurisdiction.objects.filter(country=row["country"], region=row["region"]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_age_verification_api_keys_jurisdictions")]

    operations = [migrations.RunPython(seed, unseed)]
