"""The single exception handler that turns every error into the JSON envelope, and the
shared bases of the API's parsers and serializers."""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, serializers
from rest_framework.fields import Field
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core.errors import DEFAULT_MESSAGES, STATUS_FOR_CODE, ApplicationError, ErrorCode, error_body
from core.outages import is_outage, outage_error

logger = logging.getLogger(__name__)


def _flatten_details(detail: Any) -> Any:
    """DRF's ErrorDetail tree → plain lists of messages per field."""
    if isinstance(detail, dict):
        return {str(key): _flatten_details(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_details(item) for item in detail]
    return str(detail)


def _code_for_api_exception(exc: exceptions.APIException) -> ErrorCode:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return ErrorCode.NOT_AUTHENTICATED
    if isinstance(exc, exceptions.PermissionDenied):
        return ErrorCode.PERMISSION_DENIED
    if isinstance(exc, exceptions.NotFound):
        return ErrorCode.NOT_FOUND
    if isinstance(exc, exceptions.Throttled):
        return ErrorCode.RATE_LIMITED
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ErrorCode.METHOD_NOT_ALLOWED
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ErrorCode.UNSUPPORTED_MEDIA_TYPE
    return ErrorCode.INVALID_REQUEST


class ScalarInputSerializer(serializers.Serializer[dict[str, Any]]):
    """An input serializer of scalar fields whose fields are copied, not rebuilt, for
    each instance.

    DRF deep-copies the declared fields for every serializer instance, which re-runs
    every field's ``__init__`` (its validators and messages); on the submit path that was
    half of the input's validation CPU. A scalar field keeps no per-request state (``bind``
    sets its name, parent and label on the copy; its validators and messages are only
    read), so a shallow copy behaves the same. Nested serializers are refused: they hold
    bound fields of their own.
    """

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        fields = {}
        for name, field in self._declared_fields.items():
            if isinstance(field, serializers.BaseSerializer):
                raise TypeError(f"{type(self).__name__}.{name}: only scalar fields here")
            fields[name] = copy.copy(field)
        return fields


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) a body nested too deeply instead of letting
    CPython's ``RecursionError`` through as a server error."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc


def _bad_input_body(exc: Exception) -> dict[str, Any] | None:
    """Client errors raised below DRF (body size, field count, multipart syntax)."""
    if isinstance(exc, RequestDataTooBig):
        return error_body(ErrorCode.INVALID_REQUEST, "The request body is too large.")
    if isinstance(exc, SuspiciousOperation | MultiPartParserError):
        return error_body(ErrorCode.INVALID_REQUEST, "The request data could not be read.")
    if isinstance(exc, RecursionError):
        # Only untrusted input nests this deeply; a parser that is not ours recursed.
        return error_body(ErrorCode.INVALID_REQUEST, "The request is nested too deeply.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every refusal answers ``{"error": {code, message, details}}``."""
    if is_outage(exc):
        logger.warning("dependency unavailable: %s", exc)
        exc = outage_error()
    if isinstance(exc, ApplicationError):
        return Response(exc.as_body(), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        return Response(
            error_body(ErrorCode.NOT_FOUND, DEFAULT_MESSAGES[ErrorCode.NOT_FOUND]), status=404
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code = _code_for_api_exception(exc)
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)
        if code is ErrorCode.NOT_AUTHENTICATED and auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        if wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        if isinstance(exc, exceptions.ValidationError):
            details = _flatten_details(exc.detail)
            if not isinstance(details, dict):
                details = {"non_field_errors": details}
            message = DEFAULT_MESSAGES[code]
        else:
            details = {}
            message = str(exc.detail) if isinstance(exc.detail, str) else DEFAULT_MESSAGES[code]
        status = 401 if code is ErrorCode.NOT_AUTHENTICATED else exc.status_code
        return Response(error_body(code, message, details), status=status, headers=headers)
    bad_input = _bad_input_body(exc)
    if bad_input is not None:
        logger.info("Refused bad input: %s", type(exc).__name__)
        return Response(bad_input, status=400)
    # Anything else is a bug: log it and answer with the envelope, never a traceback.
    logger.exception("Unhandled error in API view", exc_info=exc)
    return Response(
        error_body(ErrorCode.INTERNAL_ERROR, DEFAULT_MESSAGES[ErrorCode.INTERNAL_ERROR]),
        status=500,
    )


def json_error(request: HttpRequest, code: ErrorCode, message: str | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(code, message or DEFAULT_MESSAGES[code]), status=STATUS_FOR_CODE[code]
    )
