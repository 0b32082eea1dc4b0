from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.models import User
from moderation import upcalls
from moderation.models import ModerationDecision, PolicyVersion, Strike
from moderation.services import (
    prompt_check_async,
    prompt_moderate,
    prompt_needs_async_check,
)
from moderation.tasks import check_prompt_async
from tests.moderation_service.test_openai_adapter import FakeOpenAI, fake_openai  # noqa: F401

# The external layer on the queue, with the classifiers in the request (the deep
# check with both on the queue: test_deep_check.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("classifier_in_request")]


@pytest.fixture
def handoff() -> Iterator[list[tuple[str, str, str]]]:
    """Records the up-calls the task makes to the generation app (moderation/upcalls.py)."""
    calls: list[tuple[str, str, str]] = []

    def enqueue(*, job_id):
        calls.append(("gpu", job_id, ""))

    def hold(*, job_id, decision):
        calls.append(("hold", job_id, decision.category))

    def block(*, job_id, decision):
        calls.append(("block", job_id, decision.category))

    with (
        upcalls.prompt_check_allowed.replaced(enqueue),
        upcalls.prompt_check_unsure.replaced(hold),
        upcalls.prompt_check_blocked.replaced(block),
    ):
        yield calls


def test_the_task_has_an_explicit_name_and_the_moderation_queue() -> None:
    assert check_prompt_async.name == "moderation.check_prompt_async"
    assert check_prompt_async.queue == "moderation"


def test_no_async_check_without_a_key(settings, policy: PolicyVersion) -> None:
    settings.OPENAI_API_KEY = ""
    assert prompt_needs_async_check() is False


def test_only_allowed_prompts_need_the_async_check(
    fake_openai: FakeOpenAI,  # noqa: F811
    policy: PolicyVersion,
    member: User,
    jurisdiction,
) -> None:
    allowed = prompt_moderate(
        user=member, prompt="a lighthouse", negative_prompt="", jurisdiction=jurisdiction
    )
    blocked = prompt_moderate(
        user=member, prompt="explicit porn", negative_prompt="", jurisdiction=jurisdiction
    )
    assert prompt_needs_async_check(decision=allowed) is True
    assert prompt_needs_async_check(decision=blocked) is False
    assert "external" not in allowed.scores  # deferred, not run in the request
    assert len(fake_openai.requests) == 0


@pytest.mark.parametrize(
    ("scores", "status", "expected"),
    [
        ({"sexual": 0.01}, 200, ("gpu", "", "allow")),
        ({"hate": 0.6}, 200, ("hold", "hate", "review")),
        ({"violence__graphic": 0.95}, 200, ("block", "violence_graphic", "block")),
        ({}, 500, ("hold", "", "review")),
    ],
)
def test_the_async_check_hands_the_job_on(
    fake_openai: FakeOpenAI,  # noqa: F811
    policy: PolicyVersion,
    member: User,
    jurisdiction,
    handoff,
    scores,
    status,
    expected,
) -> None:
    source = prompt_moderate(
        user=member, prompt="a lighthouse", negative_prompt="", jurisdiction=jurisdiction
    )
    fake_openai.scores(**scores)
    fake_openai.status = status
    check_prompt_async("job-1", str(source.pk))
    step, category, decision = expected
    assert handoff == [(step, "job-1", category)]
    record = ModerationDecision.objects.get(follows=source)
    assert (record.layer, record.decision, record.category) == ("external", decision, category)
    assert record.policy_version == source.policy_version
    assert Strike.objects.filter(user=member).exists() is (decision == "block")


def test_a_redelivered_task_does_not_check_twice(
    fake_openai: FakeOpenAI,  # noqa: F811
    policy: PolicyVersion,
    member: User,
    jurisdiction,
    handoff,
) -> None:
    source = prompt_moderate(
        user=member, prompt="a lighthouse", negative_prompt="", jurisdiction=jurisdiction
    )
    prompt_check_async(decision_id=str(source.pk), job_id="job-1")
    prompt_check_async(decision_id=str(source.pk), job_id="job-1")
    assert len(fake_openai.requests) == 1
    assert ModerationDecision.objects.filter(follows=source).count() == 1
    assert handoff == [("gpu", "job-1", ""), ("gpu", "job-1", "")]


def test_inline_mode_runs_the_external_layer_in_the_request(
    fake_openai: FakeOpenAI,  # noqa: F811
    settings,
    policy: PolicyVersion,
    member: User,
    jurisdiction,
) -> None:
    settings.MODERATION_OPENAI_ASYNC = False
    fake_openai.scores(hate=0.95)
    decision = prompt_moderate(
        user=member, prompt="a lighthouse", negative_prompt="", jurisdiction=jurisdiction
    )
    assert (decision.decision, decision.category, decision.layer) == ("block", "hate", "external")
    assert decision.scores["external"]["scores"] == {"hate": 0.95}
    assert prompt_needs_async_check(decision=decision) is False
