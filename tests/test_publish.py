"""core.publish.task_send: the message apply_async sends, read back from the test broker.

The broker is the test run's own (the filesystem broker by default, Redis where
``CELERY_BROKER_URL`` names one, as in CI); both are kombu virtual transports, which
``task_send`` publishes to itself. Real workers consume what it sends in the worker and
fault suites (every submit's deep check goes through it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import current_app

from core import publish
from moderation.tasks import check_prompt_async

QUEUE = "moderation"


@pytest.fixture
def queue() -> Iterator[Any]:
    with current_app.connection_for_write() as connection:
        simple = connection.SimpleQueue(QUEUE, no_ack=True)
        simple.clear()
        yield simple
        simple.clear()
        simple.close()


def _received(queue: Any) -> dict[str, Any]:
    message = queue.get(block=True, timeout=5)
    headers = dict(message.headers)
    properties = dict(message.properties)
    task_id = headers.pop("id")
    assert headers.pop("root_id") == task_id
    assert properties.pop("correlation_id") == task_id
    properties.pop("delivery_tag")
    return {
        "id": task_id,
        "headers": headers,
        "properties": properties,
        "payload": message.payload,
        "content_type": message.content_type,
        "content_encoding": message.content_encoding,
        "delivery_info": {
            key: message.delivery_info.get(key) for key in ("exchange", "routing_key")
        },
    }


def _nothing_in(queue: Any) -> bool:
    try:
        queue.get(block=False)
    except queue.Empty:
        return True
    return False


def _both(queue: Any, sent_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two messages, Celery's and ours, told apart by id: the filesystem broker
    delivers messages of the same millisecond in no set order."""
    first, second = _received(queue), _received(queue)
    by_us, by_celery = (first, second) if first["id"] == sent_id else (second, first)
    assert by_us.pop("id") == sent_id != by_celery.pop("id")
    return by_celery, by_us


def test_task_send_sends_the_message_apply_async_sends(queue: Any) -> None:
    args = (str(uuid.uuid4()), str(uuid.uuid4()))
    check_prompt_async.apply_async(args)
    sent_id = publish.task_send(check_prompt_async, args)
    by_celery, by_us = _both(queue, sent_id)
    assert by_us == by_celery
    # What the worker reads: the task, its arguments, its limits, no result kept.
    assert by_us["headers"]["task"] == "moderation.check_prompt_async"
    assert by_us["payload"][0] == list(args)
    assert by_us["headers"]["timelimit"] == [
        check_prompt_async.time_limit,
        check_prompt_async.soft_time_limit,
    ]
    assert by_us["headers"]["ignore_result"] is True
    assert by_us["delivery_info"] == {"exchange": "", "routing_key": QUEUE}


def test_task_send_with_a_priority_matches_apply_async(queue: Any) -> None:
    args = (str(uuid.uuid4()),) * 2
    check_prompt_async.apply_async(args, priority=3)
    sent_id = publish.task_send(check_prompt_async, args, priority=3)
    by_celery, by_us = _both(queue, sent_id)
    assert by_us == by_celery
    assert by_us["properties"]["priority"] == 3


def test_task_send_takes_string_arguments_only(queue: Any) -> None:
    with pytest.raises(TypeError):
        publish.task_send(check_prompt_async, (1, 2))  # type: ignore[arg-type]
    assert _nothing_in(queue)


def test_a_failed_publish_raises_and_the_next_one_builds_a_new_channel(
    queue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (str(uuid.uuid4()), str(uuid.uuid4()))
    publish.task_send(check_prompt_async, args)
    channel = publish._channel(check_prompt_async.app)
    assert _received(queue)["payload"][0] == list(args)

    def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(channel, "basic_publish", refuse)
    with pytest.raises(ConnectionError):
        publish.task_send(check_prompt_async, args)
    assert _nothing_in(queue)
    sent_id = publish.task_send(check_prompt_async, args)
    assert publish._channel(check_prompt_async.app) is not channel
    assert _received(queue)["id"] == sent_id


def test_in_eager_mode_it_is_apply_async(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[Any, dict[str, Any]]] = []

    def apply_async(args: Any, **options: Any) -> Any:
        ran.append((args, options))
        return type("Result", (), {"id": "eager-id"})()

    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    monkeypatch.setattr(check_prompt_async, "apply_async", apply_async)
    assert publish.task_send(check_prompt_async, ("a", "b"), priority=2) == "eager-id"
    assert ran == [(("a", "b"), {"priority": 2})]
