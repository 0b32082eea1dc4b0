"""Prometheus metrics at ``/metrics`` (not public: a bearer token or a superuser).

Two kinds of numbers (docs/observability.md):
- state, read from the database at scrape time, so every web process reports the same
  and they agree with the moderators' dashboard: jobs by status, queue depth and age,
  generation time, moderation decisions by stage, decision, category and layer, review
  queue by priority and category, webhook backlog and lag;
- request latency by route, observed by ``RequestMetricsMiddleware`` in each web
  process. Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied
  at each start) so that every worker's observations are summed into one answer.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from accountability.models import ReviewItem, ReviewStatus
from accountability.review import PRIORITY_LABELS
from billing.models import StripeEvent
from core.api import json_error
from core.errors import ErrorCode
from generation.models import GenerationJob, JobStatus
from moderation.models import ModerationDecision

REQUEST_SECONDS = Histogram(
    "imagegate_http_request_duration_seconds",
    "Time to answer a request, by route (the URL pattern), method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RequestMetricsMiddleware:
    """Observes every request's latency under its URL pattern (never the raw path, so
    ids do not explode the label set); unrouted paths count as ``unmatched``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = ("/" + match.route) if match is not None and match.route else "unmatched"
        REQUEST_SECONDS.labels(
            route=route, method=request.method or "", status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from _jobs()
        yield from _moderation()
        yield from _review_queue()
        yield from _webhooks()


def _jobs() -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "imagegate_generation_jobs", "Generation jobs by status.", labels=["status"]
    )
    for row in GenerationJob.objects.values("status").annotate(n=Count("id")):
        jobs.add_metric([row["status"]], row["n"])
    yield jobs

    queued = GenerationJob.objects.filter(status=JobStatus.QUEUED)
    depth = GaugeMetricFamily(
        "imagegate_queue_depth", "Queued generation jobs by Celery priority.", labels=["priority"]
    )
    for priority, n in queued.values_list("queue_priority").annotate(n=Count("id")):
        depth.add_metric([str(priority)], n)
    yield depth
    oldest = queued.aggregate(oldest=Min("queued_at"))["oldest"]
    yield GaugeMetricFamily(
        "imagegate_queue_oldest_age_seconds",
        "Age of the oldest queued job (0 when the queue is empty).",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
    )
    yield from _generation_time()


def _generation_time() -> Iterator[Metric]:
    """Started → finished of succeeded jobs, as a Prometheus summary (sum and count):
    ``rate(sum) / rate(count)`` is the mean over any window."""
    from django.db import connection

    table = GenerationJob._meta.db_table
    if connection.vendor == "postgresql":
        seconds = "EXTRACT(EPOCH FROM finished_at - started_at)"
    else:
        seconds = "(julianday(finished_at) - julianday(started_at)) * 86400.0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM({seconds}), 0) FROM {table} "  # noqa: S608
            "WHERE status = %s AND started_at IS NOT NULL AND finished_at IS NOT NULL",
            [JobStatus.SUCCEEDED.value],
        )
        count, total = cursor.fetchone()
    summary = Metric(
        "imagegate_generation_seconds", "Generation time of succeeded jobs.", "summary"
    )
    summary.add_sample("imagegate_generation_seconds_count", {}, float(count))
    summary.add_sample("imagegate_generation_seconds_sum", {}, float(total))
    yield summary


def _moderation() -> Iterator[Metric]:
    decisions = CounterMetricFamily(
        "imagegate_moderation_decisions",
        "Moderation decisions by stage (prompt/output), decision, category and layer.",
        labels=["stage", "decision", "category", "layer"],
    )
    rows = ModerationDecision.objects.values("stage", "decision", "category", "layer")
    for row in rows.annotate(n=Count("id")).order_by():
        decisions.add_metric(
            [row["stage"], row["decision"], row["category"] or "none", row["layer"] or "none"],
            row["n"],
        )
    yield decisions


def _review_queue() -> Iterator[Metric]:
    """The open review queue as the moderators' dashboard shows it (same rows)."""
    pending = ReviewItem.objects.exclude(status=ReviewStatus.DECIDED)
    open_items = GaugeMetricFamily(
        "imagegate_review_items_open", "Open review items by kind.", labels=["kind"]
    )
    for kind, n in pending.values_list("kind").annotate(n=Count("id")).order_by():
        open_items.add_metric([kind], n)
    yield open_items
    by_priority = GaugeMetricFamily(
        "imagegate_review_queue", "Open review items by priority.", labels=["priority"]
    )
    counts = {r["priority"]: r["n"] for r in pending.values("priority").annotate(n=Count("id"))}
    for priority, label in sorted(PRIORITY_LABELS.items()):
        by_priority.add_metric([label], counts.get(priority, 0))
    yield by_priority
    by_category = GaugeMetricFamily(
        "imagegate_review_queue_by_category",
        "Open review items by category.",
        labels=["category"],
    )
    for category, n in pending.values_list("category").annotate(n=Count("id")).order_by():
        by_category.add_metric([category or "none"], n)
    yield by_category


def _webhooks() -> Iterator[Metric]:
    """Stripe events stored but not processed yet, and how long the oldest has waited."""
    waiting = StripeEvent.objects.filter(processed_at__isnull=True)
    yield GaugeMetricFamily(
        "imagegate_webhook_events_unprocessed",
        "Stripe events received and not processed yet.",
        value=waiting.count(),
    )
    oldest = waiting.aggregate(oldest=Min("received_at"))["oldest"]
    yield GaugeMetricFamily(
        "imagegate_webhook_lag_seconds",
        "How long the oldest unprocessed Stripe event has waited (0 when none).",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
    )


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    return bool(request.user.is_authenticated and request.user.is_superuser)


def _process_registry() -> CollectorRegistry:
    """This process's observations, or every gunicorn worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return json_error(request, ErrorCode.NOT_FOUND)
    state = CollectorRegistry(auto_describe=True)
    state.register(DatabaseCollector())
    body = generate_latest(state) + generate_latest(_process_registry())
    return HttpResponse(body, content_type="text/plain; version=0.0.4")
