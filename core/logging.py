"""Structured logs: one JSON object a line, carrying the request id and the job id.

``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (when it is a sane token)
or makes one, answers it back, and keeps it in a context variable for the request;
``job_context`` does the same for a Celery task's job (connected to Celery's task
signals in ``CoreConfig.ready``). ``ContextFilter`` puts both on every log record;
``JsonFormatter`` writes them (``LOG_FORMAT=json``, the production default).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
job_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` (empty outside a request or a job's task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = getattr(record, "job_id", "") or job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "job_id"):
            value = getattr(record, field, "")
            if value:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


JsonFormatter.converter = __import__("time").gmtime


def _task_job_id(args: Any, kwargs: Any) -> str:
    candidate = (kwargs or {}).get("job_id") or (args[0] if args else "")
    try:
        return str(uuid.UUID(str(candidate)))
    except ValueError:
        return ""


def job_context_start(*, task_id: str = "", args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """Celery ``task_prerun``: a task whose first argument is a job id logs under it."""
    job_id_var.set(_task_job_id(args, kwargs))


def job_context_end(**_: Any) -> None:
    job_id_var.set("")
