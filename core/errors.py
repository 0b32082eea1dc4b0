"""The application's one error type, carrying the spec's error codes (SPEC §9)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    EMAIL_UNVERIFIED = "email_unverified"
    AGE_VERIFICATION_REQUIRED = "age_verification_required"
    SUBSCRIPTION_REQUIRED = "subscription_required"
    ACCOUNT_SUSPENDED = "account_suspended"
    COOLDOWN = "cooldown"
    FEATURE_NOT_IN_PLAN = "feature_not_in_plan"
    REGION_RESTRICTED = "region_restricted"
    QUOTA_EXHAUSTED = "quota_exhausted"
    INVALID_REQUEST = "invalid_request"
    PROMPT_BLOCKED = "prompt_blocked"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


STATUS_FOR_CODE: dict[ErrorCode, int] = {
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.EMAIL_UNVERIFIED: 403,
    ErrorCode.AGE_VERIFICATION_REQUIRED: 403,
    ErrorCode.SUBSCRIPTION_REQUIRED: 403,
    ErrorCode.ACCOUNT_SUSPENDED: 403,
    ErrorCode.COOLDOWN: 403,
    ErrorCode.FEATURE_NOT_IN_PLAN: 403,
    ErrorCode.REGION_RESTRICTED: 403,
    ErrorCode.QUOTA_EXHAUSTED: 402,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.PROMPT_BLOCKED: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}

DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.NOT_AUTHENTICATED: "Sign in or send a valid API key.",
    ErrorCode.PERMISSION_DENIED: "You may not do this.",
    ErrorCode.EMAIL_UNVERIFIED: "Verify your email address first.",
    ErrorCode.AGE_VERIFICATION_REQUIRED: "Verify your age before generating images.",
    ErrorCode.SUBSCRIPTION_REQUIRED: "An active paid plan is needed to generate images.",
    ErrorCode.ACCOUNT_SUSPENDED: "This account is suspended.",
    ErrorCode.COOLDOWN: "This account is cooling down after a policy violation.",
    ErrorCode.FEATURE_NOT_IN_PLAN: "Your plan does not include this feature.",
    ErrorCode.REGION_RESTRICTED: "This feature is not available in your region.",
    ErrorCode.QUOTA_EXHAUSTED: "Not enough credits for this request.",
    ErrorCode.INVALID_REQUEST: "The request is not valid.",
    ErrorCode.PROMPT_BLOCKED: "The prompt breaks the content policy.",
    ErrorCode.RATE_LIMITED: "Too many requests; try again later.",
    ErrorCode.NOT_FOUND: "Not found.",
    ErrorCode.CONFLICT: "The request conflicts with the current state.",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type.",
    ErrorCode.SERVICE_UNAVAILABLE: "A dependency is unavailable.",
    ErrorCode.INTERNAL_ERROR: "Something went wrong on our side.",
}


class ApplicationError(Exception):
    """A refusal the client can act on: a spec error code, a message and details."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = ErrorCode(code)
        self.message = message or DEFAULT_MESSAGES[self.code]
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return STATUS_FOR_CODE[self.code]

    def as_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON error envelope of SPEC §9."""
    return {"error": {"code": str(code), "message": message, "details": details or {}}}
