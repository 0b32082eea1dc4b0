"""Prometheus metrics at ``/metrics`` (not public: a bearer token or a superuser).

Values are read from the database at scrape time, so every web process reports the
same numbers and nothing has to be shared between processes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.api import json_error
from core.errors import ErrorCode


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        from generation.models import GenerationJob

        jobs = GaugeMetricFamily(
            "imagegate_generation_jobs", "Generation jobs by status.", labels=["status"]
        )
        for row in GenerationJob.objects.values("status").annotate(n=Count("id")):
            jobs.add_metric([row["status"]], row["n"])
        yield jobs
        try:
            from accountability.models import ReviewItem
        except ImportError:
            return
        open_items = GaugeMetricFamily(
            "imagegate_review_items_open", "Open review items by kind.", labels=["kind"]
        )
        for item in (
            ReviewItem.objects.exclude(status="decided").values("kind").annotate(n=Count("id"))
        ):
            open_items.add_metric([item["kind"]], item["n"])
        yield open_items


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    return bool(request.user.is_authenticated and request.user.is_superuser)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return json_error(request, ErrorCode.NOT_FOUND)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type="text/plain; version=0.0.4")
