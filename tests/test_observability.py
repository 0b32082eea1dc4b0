"""/metrics (what it exposes, that it agrees with the dashboard) and structured logs."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.logging import (
    ContextFilter,
    JsonFormatter,
    RequestIdMiddleware,
    job_context_end,
    job_context_start,
)
from generation.models import GenerationJob
from moderation.services import prompt_check_async
from tests.generation.conftest import make_adult, subscribe

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-observability"
HELD = "a boxer with a bloody nose after the fight"


def scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_expose_jobs_queue_moderation_latency_and_webhooks(settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    # HELD is held by the classifier: in the request, so that one submit makes one
    # decision of each kind here (the deep check on the queue: test_deep_check.py).
    settings.MODERATION_CLASSIFIER_STAGE = "request"
    user = make_adult(country="JP")
    subscribe(user)
    api = APIClient()
    api.force_authenticate(user)
    good = {"prompt": "a lighthouse at dawn", "width": 256, "height": 256, "steps": 4}
    job_id = api.post("/api/v1/generations", good, format="json").json()["id"]
    held = api.post("/api/v1/generations", {**good, "prompt": HELD}, format="json")
    assert held.status_code == 202, held.json()
    api.get(f"/api/v1/generations/{job_id}")
    text = scrape(Client())
    assert sample(text, "imagegate_generation_jobs", status="queued") == 1
    assert sample(text, "imagegate_generation_jobs", status="held_for_review") == 1
    assert sample(text, "imagegate_queue_depth", priority="6") == 1
    assert sample(text, "imagegate_queue_oldest_age_seconds") >= 0
    assert sample(text, "imagegate_generation_seconds_count") == 0
    assert (
        sample(
            text,
            "imagegate_moderation_decisions_total",
            stage="prompt",
            decision="allow",
            category="none",
        )
        == 1
    )
    assert (
        sample(
            text,
            "imagegate_moderation_decisions_total",
            stage="prompt",
            decision="review",
            category="violence_graphic",
        )
        == 1
    )
    assert sample(text, "imagegate_webhook_events_unprocessed") == 0
    assert sample(text, "imagegate_webhook_lag_seconds") == 0
    assert (
        sample(
            text,
            "imagegate_http_request_duration_seconds_count",
            route="/api/v1/generations/<str:job_id>",
            method="GET",
            status="2xx",
        )
        >= 1
    )


def test_metrics_review_queue_agrees_with_the_moderators_dashboard(settings) -> None:
    from console.selectors import dashboard_metrics

    settings.METRICS_TOKEN = TOKEN
    user = make_adult(country="JP")
    subscribe(user)
    api = APIClient()
    api.force_authenticate(user)
    submitted = api.post(
        "/api/v1/generations",
        {"prompt": HELD, "width": 256, "height": 256, "steps": 4},
        format="json",
    )
    # The classifier holds it in the deep check (run here; a moderation worker in
    # production), which opens the review item.
    job = GenerationJob.objects.get(pk=submitted.json()["id"])
    prompt_check_async(decision_id=str(job.moderation_decision_id), job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == "held_for_review"
    text = scrape(Client())
    dashboard = dashboard_metrics()
    by_priority = dict(
        zip(
            dashboard["queue_by_priority"]["labels"],
            dashboard["queue_by_priority"]["values"],
            strict=True,
        )
    )
    assert sum(by_priority.values()) == dashboard["pending_total"] == 1
    for label, value in by_priority.items():
        assert sample(text, "imagegate_review_queue", priority=label) == value
    for key, value in zip(
        dashboard["queue_by_category"]["keys"],
        dashboard["queue_by_category"]["values"],
        strict=True,
    ):
        assert sample(text, "imagegate_review_queue_by_category", category=key) == value


def _json_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger(f"test.observability.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


def test_json_logs_carry_the_request_id_given_or_made() -> None:
    logger, stream = _json_logger()

    def view(request: HttpRequest) -> HttpResponse:
        logger.info("inside the request")
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    given = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-123"))
    made = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id with spaces"))
    logger.info("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert given["X-Request-ID"] == "req-123"
    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    assert [line.get("request_id") for line in lines] == ["req-123", made["X-Request-ID"], None]
    assert lines[0]["message"] == "inside the request"
    assert lines[0]["level"] == "INFO"


def test_json_logs_carry_the_job_id_of_a_task() -> None:
    logger, stream = _json_logger()
    job_id = uuid.uuid4()
    job_context_start(task_id="t", args=(str(job_id),), kwargs={})
    logger.info("generating")
    job_context_end()
    logger.info("idle")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["job_id"] == str(job_id)
    assert "job_id" not in lines[1]
