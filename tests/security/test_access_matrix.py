"""The authorisation matrix: every URL of the URLconf × every role, GET and POST.

Roles (columns, in this order): anonymous, member (signed up, no plan), subscriber
(owns every object in the world), another subscriber (object-level access), moderator,
senior moderator, billing admin, superuser, an API key with too few scopes (``read``)
and a revoked key (both of the subscriber; pages ignore keys, so there they are
anonymous). ``L`` is a redirect to the login page.

A URL missing from the table fails ``test_every_url_is_in_the_matrix``: a new URL
cannot be forgotten. Refused requests (``L``, 400, 401, 403, 404, 405, 409) are sent
first and must leave every table of the project unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.urlconf import Route, all_routes
from tests.security.world import ROLES, World, build_users, build_world, table_contents

ROUTES = [route for route in all_routes() if not route.is_admin]
ADMIN_ROUTES = [route for route in all_routes() if route.is_admin]
REFUSALS = {"L", "400", "401", "403", "404", "405", "409"}

# name: (GET statuses, POST statuses), one per role in ROLES order:
#   anon member subscriber other moderator senior billing superuser few-scopes revoked
EXPECTED: dict[str, tuple[str, str]] = {
    "landing": (
        "200 200 200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200 200 200",
    ),
    "content-policy": (
        "200 200 200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200 200 200",
    ),
    "favicon.ico": (
        "301 301 301 301 301 301 301 301 301 301",
        "301 301 301 301 301 301 301 301 301 301",
    ),
    "healthz": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "readyz": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "metrics": (
        "404 404 404 404 404 404 404 200 404 404",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "studio": ("L 200 200 200 200 200 200 200 L L", "L 200 200 200 200 200 200 200 L L"),
    "studio-gallery": ("L 200 200 200 200 200 200 200 L L", "L 405 405 405 405 405 405 405 L L"),
    "studio-job": ("L 404 200 404 404 404 404 404 L L", "L 405 405 405 405 405 405 405 L L"),
    "studio-job-progress": (
        "L 404 200 404 404 404 404 404 L L",
        "L 405 405 405 405 405 405 405 L L",
    ),
    "studio-job-cancel": ("L 405 405 405 405 405 405 405 L L", "L 404 302 404 404 404 404 404 L L"),
    "studio-image": ("L 404 200 404 404 404 404 404 L L", "L 405 405 405 405 405 405 405 L L"),
    "studio-share-create": (
        "L 405 405 405 405 405 405 405 L L",
        "L 404 302 404 404 404 404 404 L L",
    ),
    "studio-share-revoke": (
        "L 405 405 405 405 405 405 405 L L",
        "L 404 302 404 404 404 404 404 L L",
    ),
    "shared-image": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "shared-image-file": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "api-models": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-generations": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 400 400 400 400 400 400 400 403 401",
    ),
    "api-generation": (
        "401 404 200 404 404 404 404 404 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-generation-cancel": (
        "401 405 405 405 405 405 405 405 403 401",
        "401 404 409 404 404 404 404 404 403 401",
    ),
    "api-image-file": (
        "401 404 200 404 200 200 404 200 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-provenance-verify": (
        "401 405 405 405 405 405 405 405 405 401",
        "401 400 400 400 400 400 400 400 400 401",
    ),
    "accounts:overview": ("L 200 200 200 200 200 200 200 L L", "L 405 405 405 405 405 405 405 L L"),
    "accounts:age-verification-start": (
        "L 405 405 405 405 405 405 405 L L",
        "L 302 302 302 302 302 302 302 L L",
    ),
    "accounts:age-verification-return": (
        "L 200 200 200 200 200 200 200 L L",
        "L 405 405 405 405 405 405 405 L L",
    ),
    "accounts:api-keys": ("L 200 200 200 200 200 200 200 L L", "L 200 200 200 200 200 200 200 L L"),
    "accounts:api-key-revoke": (
        "L 405 405 405 405 405 405 405 L L",
        "L 404 302 404 404 404 404 404 L L",
    ),
    "accounts:export": ("L 200 200 200 200 200 200 200 L L", "L 405 405 405 405 405 405 405 L L"),
    "accounts:erase": ("L 200 200 200 200 200 200 200 L L", "L 200 200 200 200 200 200 200 L L"),
    "accounts:manual-verification": (
        "L 404 404 404 404 200 404 200 L L",
        "L 404 404 404 404 200 404 200 L L",
    ),
    "accounts:flag-resolve": (
        "L 405 405 405 405 405 405 405 L L",
        "L 404 404 404 404 302 404 302 L L",
    ),
    "accounts:identity-webhook": (
        "405 405 405 405 405 405 405 405 405 405",
        "400 400 400 400 400 400 400 400 400 400",
    ),
    "devstripe:identity-offline": (
        "L 404 200 404 404 404 404 404 L L",
        "L 404 200 404 404 404 404 404 L L",
    ),
    "api-me": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-me-export": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-keys": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 400 400 400 400 400 400 400 403 401",
    ),
    "api-key-revoke": (
        "401 405 405 405 405 405 405 405 405 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-age-verification": (
        "401 405 405 405 405 405 405 405 403 401",
        "401 409 409 409 409 409 409 409 403 401",
    ),
    "account_login": (
        "200 302 302 302 302 302 302 302 200 200",
        "200 302 302 302 302 302 302 302 200 200",
    ),
    "accounts:login": (
        "200 302 302 302 302 302 302 302 200 200",
        "200 302 302 302 302 302 302 302 200 200",
    ),
    "account_logout": (
        "302 200 200 200 200 200 200 200 302 302",
        "302 302 302 302 302 302 302 302 302 302",
    ),
    "account_inactive": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "account_signup": (
        "200 302 302 302 302 302 302 302 200 200",
        "200 302 302 302 302 302 302 302 200 200",
    ),
    "account_reauthenticate": (
        "L 200 200 200 200 200 200 200 L L",
        "L 200 200 200 200 200 200 200 L L",
    ),
    "account_email": ("L 200 200 200 200 200 200 200 L L", "L 302 302 302 302 302 302 302 L L"),
    "account_email_verification_sent": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "account_change_password": (
        "L 200 200 200 200 200 200 200 L L",
        "L 200 200 200 200 200 200 200 L L",
    ),
    "account_set_password": (
        "L 302 302 302 302 302 302 302 L L",
        "L 302 302 302 302 302 302 302 L L",
    ),
    "account_reset_password": (
        "200 200 200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200 200 200",
    ),
    "account_confirm_login_code": (
        "L 302 302 302 302 302 302 302 L L",
        "L 302 302 302 302 302 302 302 L L",
    ),
    "account_confirm_email": (
        "404 404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404 404",
    ),
    "account_reset_password_from_key_done": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "account_reset_password_from_key": (
        "404 404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404 404",
    ),
    "account_reset_password_done": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "mfa_index": ("L 200 200 200 200 200 200 200 L L", "L 405 405 405 405 405 405 405 L L"),
    "mfa_authenticate": ("L 302 302 302 302 302 302 302 L L", "L 302 302 302 302 302 302 302 L L"),
    "mfa_reauthenticate": (
        "L 302 302 302 200 200 200 200 L L",
        "L 302 302 302 200 200 200 200 L L",
    ),
    "mfa_activate_totp": ("L 302 302 302 302 302 302 302 L L", "L 302 302 302 302 302 302 302 L L"),
    "mfa_deactivate_totp": (
        "L 404 404 404 302 302 302 302 L L",
        "L 404 404 404 302 302 302 302 L L",
    ),
    "mfa_view_recovery_codes": (
        "L 404 404 404 404 404 404 404 L L",
        "L 405 405 405 405 405 405 405 L L",
    ),
    "mfa_generate_recovery_codes": (
        "L 302 302 302 302 302 302 302 L L",
        "L 302 302 302 302 302 302 302 L L",
    ),
    "mfa_download_recovery_codes": (
        "L 404 404 404 404 404 404 404 L L",
        "L 404 404 404 404 404 404 404 L L",
    ),
    "billing:pricing": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "billing:account": ("L 200 200 200 200 200 200 200 L L", "L 405 405 405 405 405 405 405 L L"),
    "billing:checkout": ("L 405 405 405 405 405 405 405 L L", "L 302 302 302 302 302 302 302 L L"),
    "billing:portal": ("L 405 405 405 405 405 405 405 L L", "L 302 302 302 302 302 302 302 L L"),
    "billing:stripe-webhook": (
        "405 405 405 405 405 405 405 405 405 405",
        "400 400 400 400 400 400 400 400 400 400",
    ),
    "devstripe:offline-checkout": (
        "L 404 404 404 404 404 404 404 L L",
        "L 404 404 404 404 404 404 404 L L",
    ),
    "devstripe:offline-portal": (
        "L 404 404 404 404 404 404 404 L L",
        "L 404 404 404 404 404 404 404 L L",
    ),
    "accountability:statement-list": (
        "L 200 200 200 200 200 200 200 L L",
        "L 405 405 405 405 405 405 405 L L",
    ),
    "accountability:statement-detail": (
        "L 404 200 404 404 404 404 404 L L",
        "L 404 400 404 404 404 404 404 L L",
    ),
    "accountability:report-create": (
        "405 405 405 405 405 405 405 405 405 405",
        "L 404 404 404 404 404 404 404 L L",
    ),
    "accountability:transparency": (
        "200 200 200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405 405 405",
    ),
    "api-statements": (
        "401 200 200 200 200 200 200 200 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-statement-detail": (
        "401 404 200 404 404 404 404 404 200 401",
        "401 405 405 405 405 405 405 405 405 401",
    ),
    "api-appeals": (
        "401 405 405 405 405 405 405 405 403 401",
        "401 400 400 400 400 400 400 400 403 401",
    ),
    "api-reports": (
        "401 405 405 405 405 405 405 405 403 401",
        "401 400 400 400 400 400 400 400 403 401",
    ),
    "console:dashboard": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:queue": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:claim-next": (
        "L 404 404 404 405 405 404 405 L L",
        "L 404 404 404 302 302 404 302 L L",
    ),
    "console:item": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:item-claim": (
        "L 404 404 404 405 405 404 405 L L",
        "L 404 404 404 302 302 404 302 L L",
    ),
    "console:item-release": (
        "L 404 404 404 405 405 404 405 L L",
        "L 404 404 404 302 302 404 302 L L",
    ),
    "console:item-decide": (
        "L 404 404 404 405 405 404 405 L L",
        "L 404 404 404 302 302 404 302 L L",
    ),
    "console:image": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:reports": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:appeals": ("L 404 404 404 403 200 404 200 L L", "L 404 404 404 403 405 404 405 L L"),
    "console:appeal": ("L 404 404 404 403 200 404 200 L L", "L 404 404 404 403 400 404 400 L L"),
    "console:users": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:user": ("L 404 404 404 200 200 404 200 L L", "L 404 404 404 405 405 404 405 L L"),
    "console:legal-holds": (
        "L 404 404 404 403 200 404 200 L L",
        "L 404 404 404 403 400 404 400 L L",
    ),
    "console:legal-hold-release": (
        "L 404 404 404 403 405 404 405 L L",
        "L 404 404 404 403 302 404 302 L L",
    ),
    "console:policy": ("L 404 404 404 403 200 404 200 L L", "L 404 404 404 403 400 404 400 L L"),
    "console:csam-cases": (
        "L 404 404 404 403 200 404 200 L L",
        "L 404 404 404 403 405 404 405 L L",
    ),
    "console:csam-case": ("L 404 404 404 403 200 404 200 L L", "L 404 404 404 403 400 404 400 L L"),
    "console:csam-package": (
        "L 404 404 404 403 200 404 200 L L",
        "L 404 404 404 403 405 404 405 L L",
    ),
    "api-schema": (
        "200 200 200 200 200 200 200 200 200 401",
        "405 405 405 405 405 405 405 405 405 401",
    ),
    "api-docs": (
        "200 200 200 200 200 200 200 200 200 401",
        "405 405 405 405 405 405 405 405 405 401",
    ),
}


def observed(response: Any) -> str:
    if response.status_code == 302 and response["Location"].split("?")[0] == "/accounts/login/":
        return "L"
    return str(response.status_code)


def test_every_url_is_in_the_matrix() -> None:
    names = {route.name for route in ROUTES}
    assert sorted(names - set(EXPECTED)) == [], "new URLs: add them to the matrix"
    assert sorted(set(EXPECTED) - names) == [], "URLs that no longer exist"


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_every_url_for_every_role(db, route: Route) -> None:
    world = build_world()
    path = route.path(world.values)
    expected_get, expected_post = (row.split() for row in EXPECTED[route.name])
    cells = [
        (method, role, expected[index])
        for method, expected in (("GET", expected_get), ("POST", expected_post))
        for index, role in enumerate(ROLES)
    ]
    # Refusals first: together they must change nothing at all.
    cells.sort(key=lambda cell: cell[2] not in REFUSALS)
    before = table_contents()
    checked_refusals = False
    mismatches = []
    for method, role, expected in cells:
        if expected not in REFUSALS and not checked_refusals:
            assert table_contents() == before, f"a refused request changed data: {path}"
            checked_refusals = True
        client = world.client(role)
        response = client.get(path) if method == "GET" else client.post(path)
        if observed(response) != expected:
            mismatches.append((method, role, expected, observed(response)))
    if not checked_refusals:
        assert table_contents() == before, f"a refused request changed data: {path}"
    assert mismatches == [], (path, mismatches)


# --- Django admin ------------------------------------------------------------------------
# Model pages: billing admins see billing models only, senior moderators jurisdictions and
# age checks, moderators nothing; other signed-in users are sent to the admin login.
ADMIN_ROLES = ("anonymous", "member", "subscriber", "moderator", "senior", "billing_admin")
ADMIN_MODELS_FOR: dict[str, set[str]] = {
    "moderator": set(),
    "senior": {"accounts_jurisdiction", "accounts_ageverification", "accounts_ageverificationflag"},
    "billing_admin": {
        f"billing_{name}"
        for name in (
            "plan",
            "customer",
            "subscription",
            "creditaccount",
            "creditledgerentry",
            "creditpurchase",
            "stripeevent",
            "billingreviewflag",
        )
    },
}
ADMIN_ACTIONS = ("changelist", "add", "delete", "change")


def _admin_model(route: Route) -> tuple[str, str] | None:
    if not route.name.startswith("admin:"):
        return None
    name = route.name.removeprefix("admin:")
    for action in ADMIN_ACTIONS:
        if name.endswith(f"_{action}"):
            return name[: -len(action) - 1], action
    return None


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[route.name for route in ADMIN_ROUTES])
def test_every_admin_url_for_every_role(db, route: Route) -> None:
    world = World(users=build_users(ADMIN_ROLES), values={})
    path = route.path({"object_id": "999999", "content_type_id": "1", "url": "x"})
    before = table_contents()
    model_action = _admin_model(route)
    for role in ADMIN_ROLES:
        client = world.client(role)
        for method in ("GET", "POST"):
            response = client.get(path) if method == "GET" else client.post(path)
            status = response.status_code
            where = (method, role, path, status)
            assert status < 500, where
            if route.name in ("admin:login", "admin:logout"):
                continue
            if role not in ADMIN_MODELS_FOR:
                assert status == 302, where
                assert response["Location"].startswith("/admin/login/"), where
            elif model_action is not None:
                model, action = model_action
                allowed = model in ADMIN_MODELS_FOR[role]
                if not allowed and action != "change":
                    assert status == 403, where
                if allowed and action == "changelist" and method == "GET":
                    assert status == 200, where
    assert table_contents() == before


@pytest.mark.parametrize("model", sorted(ADMIN_MODELS_FOR["billing_admin"]))
def test_billing_admins_and_superusers_reach_the_billing_models(db, model) -> None:
    world = World(users=build_users(("billing_admin", "superuser")), values={})
    app, _, name = model.partition("_")
    for role in ("billing_admin", "superuser"):
        response = world.client(role).get(f"/admin/{app}/{name}/")
        assert response.status_code == 200, (role, model)
