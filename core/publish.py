"""Sending a Celery task from the submit path, for a fraction of ``apply_async``'s CPU.

``Task.apply_async`` works out, for every message, what is the same every time: the
task's options, its route, the producer pool, the queue's declaration, a ``saferepr`` of
the arguments. On the submit path that was 0.3–0.5 ms of CPU per message, the largest
single cost of a submit in the web process (docs/benchmarks.md). ``task_send`` keeps
Celery's and kombu's own message building (``amqp.create_task_message``, the channel's
``prepare_message`` and ``basic_publish``) and works the rest out once per task and
process. ``tests/test_publish.py`` holds its message equal to ``apply_async``'s, field
by field, and real workers consume it in the worker and fault suites.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from kombu import serialization
from kombu.entity import PERSISTENT_DELIVERY_MODE
from kombu.transport import virtual

_LOCAL = threading.local()


@dataclass(frozen=True)
class _Route:
    """What ``apply_async`` works out anew for every message of a task."""

    queue: str
    time_limit: Any
    soft_time_limit: Any
    ignore_result: bool
    serializer: str


_ROUTES: dict[tuple[int, str], _Route] = {}


def _route(task: Any) -> _Route:
    key = (id(task.app), task.name)
    route = _ROUTES.get(key)
    if route is None:
        options = {k: v for k, v in task._get_exec_options().items() if v is not None}
        routed = task.app.amqp.router.route(dict(options), task.name, (), {}, task)
        route = _Route(
            queue=routed["queue"].name,
            time_limit=options.get("time_limit"),
            soft_time_limit=options.get("soft_time_limit"),
            ignore_result=bool(options.get("ignore_result", task.ignore_result)),
            serializer=options.get("serializer") or task.app.conf.task_serializer,
        )
        _ROUTES[key] = route
    return route


def _channel(app: Any) -> Any:
    """This process's (and thread's) publishing channel, kombu's own: built on first use,
    and again after a fork or a failed publish. None for a transport that is not one of
    kombu's virtual transports (Redis, the filesystem broker): those take ``apply_async``."""
    held = getattr(_LOCAL, "held", None)
    if held is None or held[0] != os.getpid() or held[1] is not app:
        connection = app.connection_for_write()
        channel = connection.default_channel
        held = (os.getpid(), app, connection, channel)
        _LOCAL.held = held
    channel = held[3]
    return channel if isinstance(channel, virtual.Channel) else None


def _forget_channel() -> None:
    held = getattr(_LOCAL, "held", None)
    _LOCAL.held = None
    if held is not None:
        with contextlib.suppress(Exception):
            held[2].release()


def task_send(task: Any, args: tuple[str, ...], *, priority: int | None = None) -> str:
    """Send ``task`` with string ``args``: the message ``task.apply_async(args,
    priority=priority)`` sends. Returns the task id.

    No retry: a publish that fails raises, and the next one builds a new channel (callers
    publish on commit, robustly, and a reconciler re-sends what was never sent, as after
    ``apply_async``'s own failure). In eager mode, inside a worker's task (where Celery
    links the message to its parent) and for a transport other than kombu's virtual ones
    this is ``apply_async`` itself.
    """
    if not all(isinstance(arg, str) for arg in args):
        raise TypeError("task_send takes string arguments only")
    app = task.app
    if app.conf.task_always_eager or app.current_worker_task is not None:
        return str(task.apply_async(args, priority=priority).id)
    try:
        channel = _channel(app)
    except Exception:
        _forget_channel()
        raise
    if channel is None:
        return str(task.apply_async(args, priority=priority).id)
    route = _route(task)
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = app.amqp.create_task_message(
        task_id,
        task.name,
        args,
        {},
        reply_to=app.thread_oid,
        time_limit=route.time_limit,
        soft_time_limit=route.soft_time_limit,
        ignore_result=route.ignore_result,
        argsrepr=repr(args),
        kwargsrepr="{}",
    )
    content_type, content_encoding, data = serialization.dumps(body, route.serializer)
    try:
        message = channel.prepare_message(
            data,
            priority,
            content_type,
            content_encoding,
            headers,
            {**properties, "delivery_mode": PERSISTENT_DELIVERY_MODE},
        )
        channel.basic_publish(message, exchange="", routing_key=route.queue)
    except Exception:
        _forget_channel()
        raise
    return task_id
