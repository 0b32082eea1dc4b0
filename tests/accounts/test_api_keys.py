from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.permissions import HasScope
from accounts.services import api_key_create
from tests.accounts.factories import UserFactory


def _bearer(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api


@pytest.mark.django_db
def test_create_shows_the_key_once_and_stores_only_its_hash() -> None:
    user = UserFactory.create()
    api = APIClient()
    api.force_login(user)
    response = api.post(
        "/api/v1/api-keys", {"name": "laptop", "scopes": ["read", "generate"]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "scopes", "key"}
    assert body["key"].startswith(body["prefix"] + "_")
    assert body["scopes"] == ["read", "generate"]
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()
    assert body["key"] not in str(ApiKey.objects.values().get(pk=body["id"]))
    listing = api.get("/api/v1/api-keys").json()["results"]
    assert [item["prefix"] for item in listing] == [body["prefix"]]
    assert "key" not in listing[0] and "key_hash" not in listing[0]


@pytest.mark.django_db
def test_bearer_key_authenticates_and_records_use() -> None:
    created = api_key_create(user=UserFactory.create(), name="ci", scopes=["read"])
    response = _bearer(created.raw_key).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == str(created.api_key.user_id)
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at is not None


@pytest.mark.django_db
def test_creating_keys_needs_the_session_not_a_key() -> None:
    created = api_key_create(
        user=UserFactory.create(), name="ci", scopes=["read", "generate", "report"]
    )
    response = _bearer(created.raw_key).post("/api/v1/api-keys", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [{"name": ""}, {"name": "x", "scopes": ["admin"]}, {"name": "x", "scopes": []}, {}],
)
def test_invalid_create_is_400_with_field_details(payload) -> None:
    api = APIClient()
    api.force_login(UserFactory.create())
    response = api.post("/api/v1/api-keys", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["details"]
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_revoked_key_is_401() -> None:
    user = UserFactory.create()
    created = api_key_create(user=user, name="old", scopes=["read"])
    api = APIClient()
    api.force_login(user)
    assert api.delete(f"/api/v1/api-keys/{created.api_key.pk}").status_code == 204
    response = _bearer(created.raw_key).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer ig_nope_nope", "Bearer", "Bearer a b", "Bearer ünï"])
def test_unknown_or_malformed_keys_are_401(header: str) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_deleting_a_foreign_key_is_404_and_changes_nothing() -> None:
    owner_key = api_key_create(user=UserFactory.create(), name="mine", scopes=["read"])
    api = APIClient()
    api.force_login(UserFactory.create())
    response = api.delete(f"/api/v1/api-keys/{owner_key.api_key.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    owner_key.api_key.refresh_from_db()
    assert owner_key.api_key.revoked_at is None


@pytest.mark.django_db
def test_key_of_an_inactive_user_is_401() -> None:
    user = UserFactory.create()
    created = api_key_create(user=user, name="k", scopes=["read"])
    user.is_active = False
    user.save()
    assert _bearer(created.raw_key).get("/api/v1/me").status_code == 401


class _View:
    def __init__(self, required_scopes=None) -> None:
        if required_scopes is not None:
            self.required_scopes = required_scopes


class _Request:
    def __init__(self, method: str, auth) -> None:
        self.method = method
        self.auth = auth


@pytest.mark.parametrize(
    ("scopes", "required", "method", "allowed"),
    [
        (["read"], None, "GET", True),
        (["generate"], None, "GET", False),
        (["read"], None, "POST", False),  # unsafe method without required_scopes: closed
        (["generate"], ["generate"], "POST", True),
        (["read"], ["generate"], "POST", False),
        (["read", "report"], ["report"], "POST", True),
        (["read"], {"GET": ["read"], "POST": ["generate"]}, "POST", False),
        (["read"], {"GET": ["read"], "POST": ["generate"]}, "GET", True),
        (["report"], [], "DELETE", True),
    ],
)
def test_has_scope(scopes, required, method, allowed) -> None:
    request = _Request(method, ApiKey(scopes=scopes))
    assert HasScope().has_permission(request, _View(required)) is allowed  # type: ignore[arg-type]


def test_sessions_have_every_scope() -> None:
    request = _Request("POST", None)
    assert HasScope().has_permission(request, _View(["generate"])) is True  # type: ignore[arg-type]


@pytest.mark.django_db
def test_read_only_key_cannot_start_what_needs_another_scope() -> None:
    created = api_key_create(user=UserFactory.create(), name="r", scopes=["generate"])
    response = _bearer(created.raw_key).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_api_keys_web_page_creates_shows_once_and_revokes(client: Client) -> None:
    user = UserFactory.create()
    client.force_login(user)
    response = client.post("/account/api-keys/", {"name": "script", "scopes": ["read"]})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=user)
    content = response.content.decode()
    assert "it will not be shown again" in content
    assert key.prefix in content
    assert "will not be shown again" not in client.get("/account/api-keys/").content.decode()
    response = client.post(f"/account/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.django_db
def test_revoking_someone_elses_key_on_the_web_is_404(client: Client) -> None:
    other = api_key_create(user=UserFactory.create(), name="theirs", scopes=["read"])
    client.force_login(UserFactory.create())
    assert client.post(f"/account/api-keys/{other.api_key.pk}/revoke/").status_code == 404
    other.api_key.refresh_from_db()
    assert other.api_key.revoked_at is None
