"""System checks of the generation app's configuration."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

from billing.plans import plan_ranks
from generation.catalog import all_models


@register(Tags.database)
def check_models_name_plans(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Every configured model's ``min_plan`` names a ``billing.Plan``: a model that
    requires a plan that does not exist would be open to nobody.

    A database check: ``migrate`` (so every deploy and ``make run``) and
    ``manage.py check --database default`` run it. Before the plans table exists it
    has nothing to compare with and stays silent.
    """
    if not databases or "default" not in databases:
        return []
    try:
        ranks = plan_ranks()
    except DatabaseError:
        return []
    return [
        Error(
            f"The model {spec.id!r} requires the plan {spec.min_plan!r}, and no plan has "
            f"that code (plans: {', '.join(sorted(ranks)) or 'none'}).",
            hint="Add the plan (a billing.Plan row) or correct min_plan in IMAGEGATE_MODELS.",
            obj="IMAGEGATE_MODELS",
            id="generation.E001",
        )
        for spec in all_models().values()
        if spec.min_plan not in ranks
    ]
