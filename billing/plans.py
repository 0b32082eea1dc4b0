"""Plan ranks: the one place that says which plan ranks above which.

A diffusion model's ``min_plan`` (``IMAGEGATE_MODELS``) names a ``billing.Plan`` by its
code; the model is open to every plan whose ``plan_rank`` is at least that plan's. The
ranks are read from the ``Plan`` rows (one small query) and kept per process for
``IMAGEGATE_PLAN_RANK_CACHE_SECONDS`` (0: not kept): a save or delete through the model
clears them in this process at once, other processes see a change within that time.
The submit path reads them on every request, so they are not read from the database
each time; unlike the jurisdictions, the test settings keep them too (within one
test: ``tests/conftest.py`` clears them before each).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from billing.models import Plan

_cache: dict[str, tuple[float, Mapping[str, int]]] = {}


def plan_rank_cache_clear(**_signal: object) -> None:
    _cache.clear()


# A saved or deleted plan: this process sees the new ranks at once (connected here, so
# that the model module needs no import of this one; billing's ready() imports it).
post_save.connect(plan_rank_cache_clear, sender=Plan, dispatch_uid="billing.plan_ranks.save")
post_delete.connect(plan_rank_cache_clear, sender=Plan, dispatch_uid="billing.plan_ranks.delete")


def plan_ranks() -> Mapping[str, int]:
    """Every plan's code and rank (plans offered or not: a retired plan still ranks)."""
    ttl = float(getattr(settings, "IMAGEGATE_PLAN_RANK_CACHE_SECONDS", 0))
    now = time.monotonic()
    cached = _cache.get("ranks")
    if ttl > 0 and cached is not None and now - cached[0] < ttl:
        return cached[1]
    ranks: Mapping[str, int] = MappingProxyType(dict(Plan.objects.values_list("code", "plan_rank")))
    if ttl > 0:
        _cache["ranks"] = (now, ranks)
    return ranks


def plan_rank(code: str) -> int | None:
    """The rank of the plan with this code; None when no plan has it."""
    return plan_ranks().get(code)
