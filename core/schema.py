"""OpenAPI post-processing: every operation documents the error envelope (SPEC §9) for
the statuses it can answer, so clients (and Schemathesis) see what really comes back."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
ERRORS_ANY_METHOD = {
    "400": "invalid_request: a malformed request or a field out of range",
    "401": "not_authenticated",
    "403": "permission_denied, a missing scope, or a gate (email, age, plan, state, region)",
    "404": "not_found: unknown, or not yours",
    "405": "method_not_allowed",
    "406": "not_acceptable: an Accept header the API cannot answer",
    "415": "unsupported_media_type",
    "429": "rate_limited (with Retry-After)",
    "503": "service_unavailable: a dependency is down",
}
ERRORS_WRITES = {
    "402": "quota_exhausted",
    "409": "conflict with the current state",
    "422": "prompt_blocked (with category and statement_id)",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(ERRORS_ANY_METHOD)
            if method.lower() in ("post", "put", "patch", "delete"):
                errors |= ERRORS_WRITES
            for status, description in errors.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def results_of(name: str, item: Any, *, paginated: bool = False) -> Any:
    """The schema of a list answer: ``{"results": [...]}`` (and cursor links)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    fields: dict[str, Any] = {"results": item}
    if paginated:
        fields["next"] = serializers.URLField(allow_null=True)
        fields["previous"] = serializers.URLField(allow_null=True)
    return inline_serializer(name, fields)


# Free text of the API (prompts, appeals): some character that is neither a space nor
# NUL, and no NUL anywhere (DRF refuses NUL); the schema states it as this pattern.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
