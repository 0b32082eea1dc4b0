from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client
from rest_framework import exceptions

from accounts.models import User
from core.api import exception_handler
from core.errors import ApplicationError, ErrorCode
from core.models import WorkerHeartbeat
from core.tasks import heartbeat

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_without_touching_dependencies(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker_ready(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_answers_503_when_the_broker_is_unreachable(client: Client, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"broker": "unreachable"}


def test_unknown_api_url_answers_the_json_envelope(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "details": {}}
    }


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.AuthenticationFailed(), 401, "not_authenticated"),
        (exceptions.NotFound(), 404, "not_found"),
        (exceptions.ParseError(), 400, "invalid_request"),
        (exceptions.Throttled(wait=12), 429, "rate_limited"),
        (exceptions.UnsupportedMediaType("text/csv"), 415, "unsupported_media_type"),
        (ApplicationError(ErrorCode.QUOTA_EXHAUSTED), 402, "quota_exhausted"),
        (
            ApplicationError(ErrorCode.PROMPT_BLOCKED, details={"category": "hate"}),
            422,
            "prompt_blocked",
        ),
        (RuntimeError("boom"), 500, "internal_error"),
    ],
)
def test_exception_handler_maps_every_error_to_the_envelope(exc, status, code) -> None:
    response = exception_handler(exc, {})
    assert response is not None
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert set(response.data["error"]) == {"code", "message", "details"}


def test_validation_errors_carry_per_field_details() -> None:
    response = exception_handler(
        exceptions.ValidationError({"width": ["Must be at most 768."]}), {}
    )
    assert response is not None and response.status_code == 400
    assert response.data["error"]["code"] == "invalid_request"
    assert response.data["error"]["details"] == {"width": ["Must be at most 768."]}


def test_throttled_sets_retry_after() -> None:
    response = exception_handler(exceptions.Throttled(wait=12.2), {})
    assert response is not None and response["Retry-After"] == "13"  # DRF rounds up


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/policy/", "/accounts/login/", "/accounts/signup/"])
def test_public_pages_render(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert b"Imagegate" in response.content


@pytest.mark.django_db
def test_user_has_uuid_key_and_logs_in_with_email(client: Client) -> None:
    user = User.objects.create_user(email="Person@Example.com", password="a-long-password-1")
    assert isinstance(user.pk, uuid.UUID)
    assert user.email == "person@example.com"
    assert client.login(email="person@example.com", password="a-long-password-1")


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings) -> None:
    from django.core.management import call_command

    settings.IMAGEGATE_DEMO_PASSWORD = "demo-password-123"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert out.getvalue().count("password: demo-password-123") == 2
    assert User.objects.filter(email__endswith="@example.com").count() == 7
    member = User.objects.get(email="member@example.com")
    assert not member.is_age_verified
    assert member.check_password("demo-password-123")
    senior = User.objects.get(email="senior@example.com")
    assert list(senior.groups.values_list("name", flat=True)) == ["senior_moderators"]
    from accountability.models import ReviewItem

    # One held prompt waits in the console, however often the command runs.
    assert ReviewItem.objects.filter(kind="prompt", status="open").count() == 1


def test_web_process_never_imports_torch() -> None:
    """Importing the WSGI app and requesting every URL leaves torch and diffusers unloaded."""
    script = ROOT / "tests" / "scripts" / "request_every_url.py"
    result = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["requested"] > 10
    assert report["server_errors"] == []
    assert report["heavy_modules"] == []


@pytest.mark.worker
def test_task_enqueued_on_commit_runs_in_a_real_worker(celery_worker) -> None:
    token = f"probe-{uuid.uuid4()}"
    with transaction.atomic():
        transaction.on_commit(lambda: heartbeat.delay(token))
        # Not yet: the task is only sent once the transaction commits.
        assert not WorkerHeartbeat.objects.filter(hostname=token).exists()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(hostname=token).exists():
            break
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.filter(hostname=token).count() == 1
    assert "core.heartbeat[" in celery_worker.output()
    assert connection.vendor in {"postgresql", "sqlite"}


@pytest.mark.django_db
def test_metrics_are_not_public(client: Client, settings) -> None:
    settings.METRICS_TOKEN = "scrape-token-123"
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123")
    assert response.status_code == 200
    assert b"imagegate_generation_jobs" in response.content


def test_unauthenticated_api_answer_names_the_bearer_scheme(client: Client) -> None:
    response = client.get("/api/v1/generations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
