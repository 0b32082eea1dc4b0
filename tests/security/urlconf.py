"""Every URL pattern of the URLconf, walked the same way by the matrix and the corpus,
so that a new URL is covered (or named as uncovered) without editing these tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when the pattern has no name
    route: str  # the pattern as written, e.g. "api/v1/generations/<str:job_id>"
    callback: Any

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    def path(self, values: dict[str, str] | None = None) -> str:
        """A concrete path: each converter filled from ``values`` or a sample."""
        values = values or {}
        path = self.route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")

        def fill(match: re.Match[str]) -> str:
            converter, _, key = match.group(1).rpartition(":")
            if key in values:
                return values[key]
            return {"uuid": "00000000-0000-4000-8000-000000000000", "int": "999999"}.get(
                converter, "sample"
            )

        path = re.sub(r"<([^>]+)>", fill, path)
        path = re.sub(r"\(\?P<([^>]+)>[^)]*\)", lambda m: values.get(m.group(1), "1"), path)
        path = path.replace("^", "").replace("$", "")
        return "/" + path


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}{entry.namespace}:"
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                name = f"{namespace}{entry.name}" if entry.name else route
                routes.append(Route(name=name, route=route, callback=entry.callback))

    walk(get_resolver().url_patterns, "", "")
    return routes
