"""One plan rank: a model's min_plan is ranked by the billing.Plan rows (billing.plans),
and a model that names no plan stops migrate and `check --database` (generation.E001)."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from billing.entitlements import entitlements_for
from billing.models import Plan, PlanKind
from billing.plans import plan_rank
from generation import catalog
from tests.generation.conftest import make_adult, subscribe

pytestmark = pytest.mark.django_db

STUDIO_MODELS = (
    '{"basic": {"path": "/nonexistent/basic"}, '
    '"studio": {"path": "/nonexistent/studio", "min_plan": "studio"}}'
)


def _studio_plan(rank: int = 3) -> Plan:
    return Plan.objects.create(
        code="studio",
        name="Studio",
        kind=PlanKind.SUBSCRIPTION,
        stripe_price_id="price_studio_test",
        credits_per_period=9000,
        max_side=1024,
        max_steps=50,
        max_images=4,
        plan_rank=rank,
        requests_per_minute=60,
    )


def test_the_catalog_has_no_rank_list_of_its_own() -> None:
    assert not hasattr(catalog, "PLAN_RANKS")
    assert (plan_rank("premium"), plan_rank("pro"), plan_rank("nonexistent")) == (1, 2, None)


def test_a_new_plan_row_opens_the_models_that_name_it(settings) -> None:
    settings.IMAGEGATE_MODELS = STUDIO_MODELS
    pro_user, studio_user = make_adult(), make_adult()
    subscribe(pro_user, "pro")
    # Before the plan exists, the model is open to nobody (and the check below says so).
    assert [m.id for m in catalog.models_for(entitlements_for(user=pro_user))] == ["basic"]
    _studio_plan(rank=3)  # seen at once: saving a plan clears this process's ranks
    subscribe(studio_user, "studio")
    assert [m.id for m in catalog.models_for(entitlements_for(user=studio_user))] == [
        "basic",
        "studio",
    ]
    assert [m.id for m in catalog.models_for(entitlements_for(user=pro_user))] == ["basic"]
    # A rank changed through the model is seen at once too.
    studio = Plan.objects.get(code="studio")
    studio.plan_rank = 2
    studio.save()
    assert [m.id for m in catalog.models_for(entitlements_for(user=pro_user))] == [
        "basic",
        "studio",
    ]


def test_ranks_are_read_once_per_process_not_per_request(settings, django_assert_num_queries):
    settings.IMAGEGATE_MODELS = STUDIO_MODELS
    user = make_adult()
    subscribe(user, "pro")
    entitlements = entitlements_for(user=user)
    with django_assert_num_queries(1):
        catalog.models_for(entitlements)
        catalog.models_for(entitlements)
        assert not catalog.model_allowed(catalog.all_models()["studio"], entitlements)


def test_a_model_naming_no_plan_is_an_error_under_migrate_and_check(settings) -> None:
    settings.IMAGEGATE_MODELS = STUDIO_MODELS
    errors = [e for e in run_checks(databases=["default"]) if e.id == "generation.E001"]
    assert len(errors) == 1
    assert "'studio' requires the plan 'studio'" in errors[0].msg
    # Without a database (a plain `check`, the web process) nothing is queried.
    assert not [e for e in run_checks() if e.id == "generation.E001"]
    with pytest.raises(SystemCheckError, match=r"generation\.E001"):
        call_command("check", "--database", "default")
    _studio_plan()
    assert not [e for e in run_checks(databases=["default"]) if e.id == "generation.E001"]


def test_the_configured_models_name_existing_plans() -> None:
    assert not [e for e in run_checks(databases=["default"]) if e.id == "generation.E001"]
