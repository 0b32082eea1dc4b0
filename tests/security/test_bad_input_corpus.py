"""The bad-input corpus: every URL of the URLconf, every API endpoint's fields, the
image upload, the webhooks, the forms and the policy editor.

A bad input always answers a clear 4xx (the JSON envelope on the API and the
webhooks, the 400 page elsewhere), never a 5xx, and stores nothing. Runs on
PostgreSQL in CI: SQLite would store the NUL characters that PostgreSQL refuses.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tests.security.conftest import error_code, row_counts
from tests.security.urlconf import Route, all_routes

ROUTES = all_routes()
DEEP = "[" * 10_000 + "]" * 10_000
TOO_BIG = b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}'
MANY_FIELDS = "&".join(f"f{i}=1" for i in range(1500))

Request = tuple[str, dict[str, Any]]  # (method, Client.generic keyword arguments)


def _form(data: str) -> dict[str, Any]:
    return {"data": data, "content_type": "application/x-www-form-urlencoded"}


def _json(data: str | bytes) -> dict[str, Any]:
    return {"data": data, "content_type": "application/json"}


# Each case: a request refused with 400 by every URL, whatever its view does.
REFUSED_EVERYWHERE: dict[str, Request] = {
    "nul_in_query": ("GET", {"query": "q=a%00b"}),
    "nul_in_form": ("POST", _form("text=a%00b&reason=x")),
    "nul_in_multipart": ("POST", {"multipart": {"text": "a\x00b", "reason": "x"}}),
    "nul_in_field_name": ("POST", _form("te%00xt=a")),
    "invalid_utf8_json": ("POST", _json(b'{"prompt": "\xff\xfe\xfd"}')),
    "malformed_json": ("POST", _json('{"prompt": ')),
    "deep_json": ("POST", _json(DEEP)),
    "body_over_the_limit": ("POST", _json(TOO_BIG)),
    "too_many_form_fields": ("POST", _form(MANY_FIELDS)),
    "content_length_not_a_number": ("POST", {**_json("{}"), "CONTENT_LENGTH": "abc"}),
    "multipart_without_boundary": (
        "POST",
        {"data": b"--x\r\nnot a part", "content_type": "multipart/form-data"},
    ),
    "bad_host": ("GET", {"HTTP_HOST": "evil.example"}),
    "bad_host_post": ("POST", {**_json("{}"), "HTTP_HOST": "evil.example:99999"}),
}
# The admin's forms share one form parser: these three stand for the rest there.
ADMIN_CASES = ("nul_in_form", "too_many_form_fields", "bad_host")
# Never a 5xx, whatever the status (a malformed credential is a 401 on the API).
ODD_HEADERS: dict[str, Request] = {
    "bearer_without_key": ("GET", {"HTTP_AUTHORIZATION": "Bearer"}),
    "bearer_huge": ("GET", {"HTTP_AUTHORIZATION": "Bearer " + "k" * 10_000}),
    "bearer_non_ascii": ("GET", {"HTTP_AUTHORIZATION": "Bearer ключ"}),
    "basic_auth": ("GET", {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}),
    # Django reads a multipart body with no valid part as an empty form.
    "broken_multipart": (
        "POST",
        {"data": b"--x\r\nnot a part", "content_type": "multipart/form-data; boundary=x"},
    ),
    "unknown_content_type": ("POST", {"data": "x", "content_type": "text/x-unknown"}),
    "idempotency_key_huge": ("POST", {**_json("{}"), "HTTP_IDEMPOTENCY_KEY": "i" * 10_000}),
    "accept_nonsense": ("GET", {"HTTP_ACCEPT": "nonsense/*;q=abc"}),
    "cookie_garbage": ("GET", {"HTTP_COOKIE": "sessionid=\x7f\x01;;=;csrftoken"}),
}


def send(client: Client, route: Route, method: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    path = route.path()
    query = kwargs.pop("query", "")
    if query:
        path = f"{path}?{query}"
    multipart = kwargs.pop("multipart", None)
    if multipart is not None:
        return client.post(path, multipart, **kwargs)
    data = kwargs.pop("data", "")
    content_type = kwargs.pop("content_type", "application/octet-stream")
    return client.generic(method, path, data, content_type, **kwargs)


def assert_clear_refusal(response: Any, route: Route, case: str) -> None:
    where = f"{case} {route.route}"
    assert response.status_code == 400, (where, response.status_code, response.content[:200])
    if route.route.startswith(("api/", "billing/stripe/", "accounts/stripe/")):
        assert error_code(response) == "invalid_request", where
    else:
        assert response["Content-Type"].startswith("text/html"), where
        assert b"Bad request" in response.content, where


@pytest.fixture
def superuser_client(superuser) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_url_refuses_malformed_input_and_stores_nothing(superuser_client, route) -> None:
    before = row_counts()
    cases = ADMIN_CASES if route.is_admin else tuple(REFUSED_EVERYWHERE)
    for case in cases:
        method, kwargs = REFUSED_EVERYWHERE[case]
        response = send(superuser_client, route, method, kwargs)
        assert_clear_refusal(response, route, case)
    if not route.is_admin:
        for case, (method, kwargs) in ODD_HEADERS.items():
            response = send(superuser_client, route, method, kwargs)
            assert response.status_code < 500, (case, route.route, response.content[:200])
    assert row_counts() == before


# --- field by field on the JSON API ----------------------------------------------------

LONG = "x" * 200_000
GENERATION_FIELDS: list[dict[str, Any]] = [
    {"prompt": ""},
    {"prompt": "   "},
    {"prompt": LONG},
    {"prompt": "a cat\u0000"},
    {"prompt": ["a cat"]},
    {"prompt": {"text": "a cat"}},
    {"prompt": None},
    {"negative_prompt": "\u0000"},
    {"negative_prompt": LONG},
    {"width": "wide"},
    {"width": -512},
    {"width": 0},
    {"width": 10**20},
    {"width": 512.5},
    {"height": 2**63},
    {"steps": 1e308},
    {"steps": -1},
    {"steps": True},
    {"guidance_scale": "NaN"},
    {"guidance_scale": 1e308},
    {"guidance_scale": -5},
    {"seed": 2**70},
    {"seed": -1},
    {"seed": "abc"},
    {"num_images": 10**9},
    {"num_images": []},
    {"model": {"id": 1}},
    {"model": "no-such-model"},
    {"model": "\u0000"},
    {"unknown_field": "x" * 1000},
]


def _generation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "a lighthouse at dawn", "width": 512, "height": 512}
    body.update(changes)
    return body


@pytest.mark.parametrize("changes", GENERATION_FIELDS, ids=lambda c: next(iter(c)))
def test_generation_fields_out_of_range_or_wrong_type_are_400(subscriber, session_for, changes):
    client = session_for(subscriber)
    before = row_counts()
    response = client.post(
        "/api/v1/generations", json.dumps(_generation(**changes)), content_type="application/json"
    )
    if next(iter(changes)) == "unknown_field":
        # Unknown fields are ignored; the valid rest is accepted (202).
        assert response.status_code == 202, response.content[:300]
        return
    assert response.status_code in (400, 403), (changes, response.content[:300])
    assert error_code(response) in ("invalid_request", "feature_not_in_plan")
    assert row_counts() == before


@pytest.mark.parametrize(
    "body", ["[]", "null", '"a prompt"', "1", "true", "{}", '{"": ""}'], ids=str
)
@pytest.mark.parametrize("path", ["/api/v1/generations", "/api/v1/appeals", "/api/v1/reports"])
def test_json_bodies_of_the_wrong_shape_are_400(subscriber, session_for, path, body) -> None:
    before = row_counts()
    response = session_for(subscriber).post(path, body, content_type="application/json")
    assert response.status_code == 400, (body, response.content[:300])
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


APPEAL_BODIES = [
    {"statement_id": "not-an-id", "text": "wrong"},
    {"statement_id": 123, "text": "wrong"},
    {"statement_id": None, "text": "wrong"},
    {"text": "wrong"},
]
REPORT_BODIES = [
    {"image_id": "not-an-id", "reason": "other"},
    {"image_id": 5, "reason": "other"},
    {"image_id": str(uuid.uuid4()), "reason": "\u0000"},
    {"image_id": str(uuid.uuid4()), "reason": "other", "details": LONG},
    {"image_id": str(uuid.uuid4()), "reason": "other", "details": "a\u0000b"},
    {"image_id": str(uuid.uuid4()), "reason": ["other"]},
]
API_KEY_BODIES = [
    {"name": ""},
    {"name": "x" * 1000},
    {"name": "a\u0000b"},
    {"name": "k", "scopes": "read"},
    {"name": "k", "scopes": ["root"]},
    {"name": "k", "scopes": [1]},
    {"name": "k", "scopes": []},
]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/appeals", b) for b in APPEAL_BODIES]
    + [("/api/v1/reports", b) for b in REPORT_BODIES]
    + [("/api/v1/api-keys", b) for b in API_KEY_BODIES],
)
def test_appeal_report_and_key_fields_are_refused(subscriber, session_for, path, body) -> None:
    before = row_counts()
    response = session_for(subscriber).post(path, json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404), (body, response.content[:300])
    assert error_code(response) in ("invalid_request", "not_found")
    assert row_counts() == before


def test_appeal_text_with_nul_or_too_long_is_400(subscriber, session_for) -> None:
    from tests.security.test_findings import _statement

    statement = _statement(subscriber)
    client = session_for(subscriber)
    before = row_counts()
    for text in ("", "a\u0000b", LONG, None, ["a"]):
        body = {"statement_id": str(statement.pk), "text": text}
        response = client.post("/api/v1/appeals", json.dumps(body), content_type="application/json")
        assert response.status_code == 400, (text, response.content[:300])
        assert error_code(response) == "invalid_request"
    assert row_counts() == before


@pytest.mark.parametrize(
    "query",
    ["cursor=%00", "cursor=not-a-cursor", "page_size=-1", "page_size=99999999999999999999",
     "cursor=" + "A" * 5000],
)  # fmt: skip
def test_list_query_parameters_never_break_the_list(subscriber, session_for, query) -> None:
    response = session_for(subscriber).get(f"/api/v1/generations?{query}")
    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code != 200:
        assert "error" in response.json()


# --- images ------------------------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _bomb_header() -> bytes:
    """A PNG whose header claims 100000×100000 pixels (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 10_000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


IMAGE_CASES: dict[str, Callable[[], Any]] = {
    "missing": lambda: None,
    "empty": lambda: b"",
    "text": lambda: b"hello, not an image",
    "truncated_png": lambda: _png(300, 300)[:60],
    "gif": lambda: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "bomb_header": _bomb_header,
    "huge_but_small_6300px": lambda: _png(6300, 6300),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_provenance_verify_refuses_bad_images(subscriber, session_for, case) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = IMAGE_CASES[case]()
    payload = {} if data is None else {"image": SimpleUploadedFile("x.png", data, "image/png")}
    before = row_counts()
    response = session_for(subscriber).post("/api/v1/provenance/verify", payload)
    assert response.status_code == 400, (case, response.content[:300])
    assert error_code(response) == "invalid_request"
    assert row_counts() == before


def test_provenance_verify_as_json_is_415(subscriber, session_for) -> None:
    response = session_for(subscriber).post(
        "/api/v1/provenance/verify", "{}", content_type="application/json"
    )
    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


# --- pages and forms -------------------------------------------------------------------

FORM_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("subscriber", "/studio/", {"prompt": LONG, "width": "-1", "steps": "1e400"}),
    ("subscriber", "/studio/", {"prompt": "a cat", "width": "99999999999999999999999"}),
    ("subscriber", "/studio/", {"prompt": "", "num_images": "many"}),
    ("subscriber", "/account/api-keys/", {"name": "x" * 5000, "scopes": ["root"]}),
    ("subscriber", "/account/api-keys/", {"name": "", "scopes": "read"}),
    ("subscriber", "/account/delete/", {"password": "x" * 100_000, "confirm": "yes"}),
    ("subscriber", "/account/reports/", {"image_id": "x" * 5000, "reason": "other"}),
    ("subscriber", "/account/reports/", {"image_id": str(uuid.uuid4()), "reason": "x" * 5000}),
    ("anonymous", "/accounts/login/", {"login": "x" * 100_000, "password": "p"}),
    ("anonymous", "/accounts/login/", {"login": "a@b", "password": ""}),
    ("anonymous", "/accounts/signup/", {"email": "a@example.com", "date_of_birth": "99999-1-1"}),
    ("anonymous", "/accounts/signup/", {"email": "x" * 5000, "date_of_birth": "0000-00-00"}),
    ("anonymous", "/accounts/password/reset/", {"email": "x" * 100_000}),
    ("senior", "/moderation/policy/", {"document": "", "reason": "r"}),
    ("senior", "/moderation/policy/", {"document": "[]", "reason": "r"}),
    ("senior", "/moderation/policy/", {"document": "null", "reason": "r"}),
    ("senior", "/moderation/policy/", {"document": "{}", "reason": ""}),
    ("senior", "/moderation/policy/", {"document": "{" * 50_000, "reason": "r"}),
    ("senior", "/moderation/legal-holds/", {"email": "x" * 10_000, "reason": "r"}),
    ("senior", "GET /moderation/users/", {"q": "x" * 10_000}),
    ("senior", "GET /moderation/queue/", {"category": "x" * 1000, "priority": "-1e999"}),
    ("subscriber", "GET /studio/gallery/", {"page": "99999999999999999999", "q": "\u2028"}),
]


@pytest.mark.parametrize(("role", "path", "data"), FORM_CASES)
def test_forms_refuse_bad_values_without_a_server_error(
    db, request, session_for, role, path, data
) -> None:
    user = None if role == "anonymous" else request.getfixturevalue(role)
    client = session_for(user)
    before = row_counts()
    method, _, url = path.rpartition(" ")
    response = client.get(url, data) if method == "GET" else client.post(url, data)
    # A form page answers its own errors (200 with the form, or 400), or redirects
    # back with a message; it never fails and never stores the bad value.
    assert response.status_code in (200, 302, 400, 404), (path, response.status_code)
    after = row_counts()
    # Login attempts are counted (allauth's rate limit lives in the cache, not here).
    assert after == before, (
        path,
        {k: (before[k], after[k]) for k in after if after[k] != before[k]},
    )
