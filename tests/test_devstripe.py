"""The offline Stripe stand-ins live in the development-only app ``devstripe``: installed
under the development and test settings, absent (with its tables) under production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core import stripe_client
from devstripe.transport import OfflineTransport
from tests.environments import production_variables

ROOT = Path(__file__).resolve().parents[1]

# Under the production settings: the installed apps, the whole migration plan (no
# database needed) and the models of the final migration state.
PLAN_SCRIPT = """
import json, django
django.setup()
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
loader = MigrationLoader(None, ignore_no_migrations=True)
plan = []
for leaf in loader.graph.leaf_nodes():
    plan += [key for key in loader.graph.forwards_plan(leaf) if key not in plan]
state = loader.project_state()
print(json.dumps({
    "apps": list(settings.INSTALLED_APPS),
    "plan": plan,
    "models": sorted(f"{app}.{model}" for app, model in state.models),
}))
"""


def _production_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **production_variables(**extra)}


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_install_no_stand_in_and_migrate_no_table_of_it() -> None:
    result = _run(PLAN_SCRIPT, _production_env())
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert "devstripe" not in shown["apps"]
    assert "billing" in shown["apps"] and "accounts" in shown["apps"]
    assert not [key for key in shown["plan"] if key[0] == "devstripe"]
    # The tables billing and accounts had before issue 14 are dropped by their migrations.
    assert ["accounts", "0005_delete_offlineidentitysession"] in shown["plan"]
    assert ["billing", "0006_delete_offlinestripeobject"] in shown["plan"]
    assert not [m for m in shown["models"] if "offline" in m]
    assert "billing.plan" in shown["models"]


def test_production_settings_refuse_to_start_with_the_stand_ins(tmp_path: Path) -> None:
    (tmp_path / "with_devstripe.py").write_text(
        "from imagegate.settings.production import *  # noqa\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'devstripe']\n"
    )
    env = _production_env(
        DJANGO_SETTINGS_MODULE="with_devstripe",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
    )
    result = _run("import django; django.setup()", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "never installed in production" in result.stderr


def test_the_test_and_development_settings_install_the_stand_ins() -> None:
    assert apps.is_installed("devstripe")
    assert "devstripe" in settings.DEVELOPMENT_APPS and not settings.IMAGEGATE_PRODUCTION
    base = _run(
        "import django; django.setup(); from django.conf import settings as s; "
        "print('devstripe' in s.INSTALLED_APPS, s.STRIPE_OFFLINE)",
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "imagegate.settings.base",
            "STRIPE_SECRET_KEY": "",
        },
    )
    assert base.returncode == 0, base.stderr
    assert base.stdout.split() == ["True", "True"]


def test_the_client_reaches_the_stand_in_only_through_its_registration(
    settings, monkeypatch
) -> None:
    settings.STRIPE_OFFLINE = True
    assert isinstance(stripe_client.stripe_http_client(), OfflineTransport)
    monkeypatch.setattr(stripe_client, "_offline", None)  # as if devstripe were not installed
    with pytest.raises(ImproperlyConfigured, match="devstripe"):
        stripe_client.stripe_http_client()
    settings.STRIPE_OFFLINE = False
    assert stripe_client.stripe_http_client() is None


@pytest.mark.django_db
def test_the_stand_in_charges_what_each_plan_shows() -> None:
    from billing.models import Plan, PlanKind
    from devstripe.billing import DEFAULT_AMOUNT, price_amount

    amounts = {p.code: price_amount(p.stripe_price_id) for p in Plan.objects.all()}
    assert amounts == {"premium": 1200, "pro": 3000, "credits-500": 500}
    studio = Plan.objects.create(
        code="studio",
        name="Studio",
        kind=PlanKind.SUBSCRIPTION,
        stripe_price_id="price_studio",
        price_display="€49.50 / month",
        credits_per_period=9000,
    )
    assert price_amount(studio.stripe_price_id) == 4950
    assert price_amount("price_nobody_has") == DEFAULT_AMOUNT
