"""Every kind of outage the API can meet answers 503 + Retry-After in the envelope."""

from __future__ import annotations

import pytest
import redis
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from core.api import exception_handler


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection refused"),
        InterfaceError("connection already closed"),
        redis.exceptions.ConnectionError("cache unreachable"),
        redis.exceptions.TimeoutError("cache timed out"),
        BrokerError("broker unreachable"),
    ],
    ids=["database", "database-closed", "cache", "cache-timeout", "broker"],
)
def test_an_unreachable_dependency_answers_503_with_retry_after(error: Exception) -> None:
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data["error"]["code"] == "service_unavailable"
    assert response.data["error"]["details"] == {"retry_after": 5}


def test_a_bug_is_still_a_500() -> None:
    response = exception_handler(ValueError("a bug"), {})
    assert response is not None
    assert response.status_code == 500
    assert response.data["error"]["code"] == "internal_error"
