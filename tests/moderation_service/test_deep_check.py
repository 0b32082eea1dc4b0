"""The deep check: the prompt classifiers on the moderation queue, before the GPU.

With ``MODERATION_CLASSIFIER_STAGE="queue"`` (the default) a submit runs normalisation
and the rules; the job waits, queued, until ``prompt_check_async`` (the task
``moderation.check_prompt_async``) has run the whole text path and, when configured,
the external API. The task is called directly here (the broker belongs to the worker
tests: tests/generation/test_deep_check_worker.py runs it in a real worker).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accountability.models import CsamCase, LegalHold, ReviewItem, StatementOfReasons
from accounts.models import AccountState, User
from core.errors import ApplicationError
from generation.attempts import jobs_redispatch
from generation.models import GenerationJob, JobStatus
from moderation.models import ModerationDecision, PolicyVersion, PromptLog, Strike
from moderation.policy import policy_publish, reset_text_classifier, text_classifier_loaded
from moderation.services import prompt_check_async, prompt_moderate, prompt_needs_async_check
from tests.generation.conftest import balance, make_adult, subscribe
from tests.moderation_service.conftest import FakeScorer, fixed_document
from tests.moderation_service.test_async_check import handoff  # noqa: F401
from tests.moderation_service.test_openai_adapter import FakeOpenAI, fake_openai  # noqa: F401

pytestmark = pytest.mark.django_db

REQUEST = {"width": 256, "height": 256, "steps": 4}
MINOR_PROMPT = "a schoolgirl in her bedroom"
CHECKING = {
    "decision": "checking",
    "category": None,
    "statement_id": None,
    "note": "Checking the prompt against the content policy before it is queued.",
}


@pytest.fixture
def gpu_sends(monkeypatch) -> list[str]:
    """The jobs sent to the GPU queue (``run_generation.apply_async``), in order."""
    from generation import tasks

    sent: list[str] = []
    monkeypatch.setattr(
        tasks.run_generation, "apply_async", lambda args, **kwargs: sent.append(args[0])
    )
    return sent


@pytest.fixture
def check_sends(monkeypatch) -> list[tuple[str, str]]:
    """The deep checks sent to the moderation queue: by the submit
    (``core.publish.task_send``) and by the reconciler (``check_prompt_async.delay``)."""
    from moderation import services, tasks

    sent: list[tuple[str, str]] = []

    def send(task: Any, args: tuple[str, str]) -> None:
        assert task.name == tasks.check_prompt_async.name
        sent.append(args)

    monkeypatch.setattr(services, "task_send", send)
    monkeypatch.setattr(
        tasks.check_prompt_async, "delay", lambda job, decision: sent.append((job, decision))
    )
    return sent


@pytest.fixture
def subscriber(db: None) -> User:
    user = make_adult("deep-check@example.com")
    subscribe(user)
    return user


def _submit(user: User, prompt: str, capture: Any) -> Any:
    client = APIClient()
    client.force_authenticate(user)
    with capture(execute=True):
        return client.post("/api/v1/generations", {**REQUEST, "prompt": prompt}, format="json")


def _check(job: GenerationJob, capture: Any) -> ModerationDecision | None:
    with capture(execute=True):
        return prompt_check_async(decision_id=str(job.moderation_decision_id), job_id=str(job.pk))


def _held_or_blocked(
    subscriber: User, scorer: FakeScorer, sexual: float, capture: Any
) -> tuple[GenerationJob, ModerationDecision]:
    """Submit the schoolgirl prompt (a minor indicator, nothing sexual listed), then run
    the deep check with the classifier's sexual score at ``sexual``."""
    response = _submit(subscriber, MINOR_PROMPT, capture)
    assert response.status_code == 202, response.json()
    job = GenerationJob.objects.get(pk=response.json()["id"])
    scorer.next_scores = {"sexual": sexual}
    deep = _check(job, capture)
    assert deep is not None
    job.refresh_from_db()
    return job, deep


def test_the_request_stage_runs_the_rules_and_never_builds_the_classifier(
    senior: User, member: User, jurisdiction
) -> None:
    reset_text_classifier()
    policy_publish(actor=senior, document=fixed_document(), reason="test thresholds")
    decision = prompt_moderate(
        user=member,
        prompt="a trench soldier after the battle",
        negative_prompt="",
        jurisdiction=jurisdiction,
    )
    assert text_classifier_loaded() is False
    assert (decision.decision, decision.layer) == ("allow", "")
    assert decision.scores["classifier"] == {}
    assert decision.scores["classifier_stage"] == "queue"
    assert set(decision.scores) >= {"normalisation", "rules", "thresholds", "timings_ms"}
    assert prompt_needs_async_check(decision=decision) is True
    assert prompt_needs_async_check() is True  # no external key needed: the classifiers


def test_a_corroborating_rule_hit_is_left_to_the_deep_check(
    policy: PolicyVersion,
    member: User,
    jurisdiction,
    scorer: FakeScorer,
    handoff: list[tuple[str, str, str]],  # noqa: F811
) -> None:
    """A "robbery" hit holds for review only when the classifier agrees: the request
    cannot tell, so it allows and lists the hit as deferred; the deep check decides."""
    decision = prompt_moderate(
        user=member, prompt="a bank robbery", negative_prompt="", jurisdiction=jurisdiction
    )
    assert decision.decision == "allow"
    assert [hit["action"] for hit in decision.scores["deferred"]] == ["corroborate"]
    # Unsafe sum 0.55 >= corroborate_at (0.5), no category at its own review band.
    scorer.next_scores = {"illegal": 0.45, "hate": 0.1}
    deep = prompt_check_async(decision_id=str(decision.pk), job_id="job-1")
    assert deep is not None
    assert (deep.decision, deep.category, deep.layer) == ("review", "illegal", "rules")
    assert deep.follows == decision
    assert handoff == [("hold", "job-1", "illegal")]


def test_a_classifier_only_block_on_the_queue_blocks_the_job(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    prompt = "a soldier after the battle"  # no listed term; the classifier alone
    response = _submit(subscriber, prompt, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["moderation"]) == ("queued", CHECKING)
    job = GenerationJob.objects.get(pk=body["id"])
    assert job.awaiting_check is True
    assert check_sends == [(str(job.pk), str(job.moderation_decision_id))]
    assert gpu_sends == []
    assert balance(subscriber) == (99, 1)  # reserved while it is checked
    assert not Strike.objects.exists()

    scorer.next_scores = {"violence_graphic": 0.95}  # the policy's block is 0.9
    deep = _check(job, django_capture_on_commit_callbacks)

    assert deep is not None
    assert (deep.decision, deep.category, deep.layer) == ("block", "violence_graphic", "classifier")
    assert deep.follows_id == job.moderation_decision_id
    assert deep.policy_version == PolicyVersion.objects.get(pk=policy.pk)
    assert deep.scores["classifier"]["violence_graphic"] == 0.95
    assert deep.scores["classifier_stage"] == "queue"
    assert deep.prompt_log == PromptLog.objects.get()
    job.refresh_from_db()
    assert (job.status, job.awaiting_check, job.moderation_category) == (
        JobStatus.BLOCKED,
        False,
        "violence_graphic",
    )
    statement = StatementOfReasons.objects.get(user=subscriber)
    assert job.statement_id == statement.pk == deep.statement_id
    assert "automated text classifier layer" in statement.facts
    assert Strike.objects.get(user=subscriber).decision == deep
    assert balance(subscriber) == (100, 0)  # released, nothing charged
    assert job.credits_charged == 0
    assert gpu_sends == []  # it never reached the GPU queue
    answer = APIClient()
    answer.force_authenticate(subscriber)
    body = answer.get(f"/api/v1/generations/{job.pk}").json()
    assert body["moderation"] == {
        "decision": "block",
        "category": "violence_graphic",
        "statement_id": str(statement.pk),
    }


def test_a_benign_prompt_goes_to_the_gpu_after_the_deep_check(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a lighthouse at dawn", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert gpu_sends == []

    deep = _check(job, django_capture_on_commit_callbacks)

    assert deep is not None and (deep.decision, deep.layer) == ("allow", "")
    job.refresh_from_db()
    assert (job.status, job.awaiting_check) == (JobStatus.QUEUED, False)
    assert gpu_sends == [str(job.pk)]
    assert balance(subscriber) == (99, 1)
    assert not Strike.objects.exists() and not StatementOfReasons.objects.exists()


def test_running_the_deep_check_again_changes_nothing(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a soldier after the battle", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    scorer.next_scores = {"violence_graphic": 0.95}
    first = _check(job, django_capture_on_commit_callbacks)
    scorer.next_scores = {}  # a redelivered message must not decide again
    second = _check(job, django_capture_on_commit_callbacks)

    assert first == second
    assert ModerationDecision.objects.filter(follows_id=job.moderation_decision_id).count() == 1
    assert Strike.objects.count() == 1
    assert StatementOfReasons.objects.count() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.BLOCKED
    assert balance(subscriber) == (100, 0)
    assert gpu_sends == []


def test_a_review_band_score_holds_the_job_without_a_strike(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a crowd at a rally", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    scorer.next_scores = {"hate": 0.6}
    _check(job, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert (job.status, job.hold_stage, job.moderation_category) == (
        JobStatus.HELD_FOR_REVIEW,
        "prompt",
        "hate",
    )
    item = ReviewItem.objects.get(subject_id=str(job.pk))
    assert item.kind == "prompt"
    assert not Strike.objects.exists()
    assert balance(subscriber) == (99, 1)
    assert gpu_sends == []


def test_the_minor_sexual_classifier_rule_on_the_queue_holds_for_a_senior(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    """A minor indicator with a sexual score at ``minor_sexual`` and nothing listed is
    zero tolerance found by the classifier alone: the job is held for senior
    moderators, nothing is generated, and nothing is locked until one confirms."""
    # 0.95: at minor_sexual (0.8), and at the sexual block (0.9) of this policy.
    job, deep = _held_or_blocked(subscriber, scorer, 0.95, django_capture_on_commit_callbacks)

    assert (deep.decision, deep.category, deep.layer) == ("review", "sexual_minors", "classifier")
    assert (job.status, job.hold_stage, job.moderation_category) == (
        JobStatus.HELD_FOR_REVIEW,
        "prompt",
        "sexual_minors",
    )
    item = ReviewItem.objects.get(subject_id=str(job.pk))
    assert (item.kind, item.category, item.requires_senior, item.severity) == (
        "prompt",
        "sexual_minors",
        True,
        5,
    )
    subscriber.refresh_from_db()
    assert subscriber.account_state == AccountState.ACTIVE
    assert not CsamCase.objects.exists()
    assert not LegalHold.objects.exists()
    assert not Strike.objects.exists()
    assert balance(subscriber) == (99, 1)
    assert gpu_sends == []


def test_with_minor_sexual_block_set_the_classifier_alone_locks_the_account(
    senior: User,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    """An operator who sets ``minor_sexual_block`` gets the block: CSAM case, account
    locked, nothing charged."""
    policy_publish(
        actor=senior, document=fixed_document(minor_sexual_block=0.85), reason="lock at 0.85"
    )
    job, deep = _held_or_blocked(subscriber, scorer, 0.85, django_capture_on_commit_callbacks)

    assert (deep.decision, deep.category, deep.layer) == ("block", "sexual_minors", "classifier")
    assert job.status == JobStatus.BLOCKED
    subscriber.refresh_from_db()
    assert subscriber.account_state == AccountState.SUSPENDED
    assert LegalHold.objects.filter(user=subscriber, released_at__isnull=True).exists()
    case = CsamCase.objects.get(user=subscriber)
    assert case.evidence["prompt"] == MINOR_PROMPT
    assert case.evidence["decision_id"] == str(deep.pk)
    assert balance(subscriber) == (100, 0)
    assert gpu_sends == []


def test_minor_sexual_block_below_minor_sexual_is_refused(senior: User) -> None:
    before = PolicyVersion.objects.count()
    with pytest.raises(ApplicationError) as raised:
        policy_publish(
            actor=senior,
            document=fixed_document(minor_sexual=0.8, minor_sexual_block=0.5),
            reason="lower",
        )
    assert "minor_sexual_block: expected at least minor_sexual (0.8)" in str(raised.value.details)
    with pytest.raises(ApplicationError):
        policy_publish(
            actor=senior, document=fixed_document(minor_sexual_block="high"), reason="text"
        )
    assert PolicyVersion.objects.count() == before


def test_a_rule_block_is_a_422_at_once_with_no_job_and_no_check(
    policy: PolicyVersion,
    subscriber: User,
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(
        subscriber, "nude photo of a 12 year old girl", django_capture_on_commit_callbacks
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["details"]["category"], error["details"]["layer"]) == (
        "prompt_blocked",
        "sexual_minors",
        "rules",
    )
    assert GenerationJob.objects.count() == 0
    assert check_sends == []
    assert balance(subscriber) == (100, 0)
    subscriber.refresh_from_db()
    assert subscriber.account_state == AccountState.SUSPENDED  # the CSAM lock, as before


def test_the_reconciler_resends_a_lost_deep_check(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
    settings,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    response = _submit(subscriber, "a lighthouse at dawn", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    check_sends.clear()  # the message is lost
    later = timezone.now() + timedelta(seconds=settings.GENERATION_DISPATCH_RESEND_SECONDS + 5)

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_redispatch(now=later)

    assert counts == {"resent": 0, "rechecked": 1}
    assert check_sends == [(str(job.pk), str(job.moderation_decision_id))]
    assert gpu_sends == []  # waiting for its check: never the GPU
    _check(job, django_capture_on_commit_callbacks)
    assert gpu_sends == [str(job.pk)]


def test_with_the_external_api_the_deep_check_records_both_layers(
    fake_openai: FakeOpenAI,  # noqa: F811
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a lighthouse at dawn", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert len(fake_openai.requests) == 0  # not in the request
    fake_openai.scores(hate=0.95)

    deciding = _check(job, django_capture_on_commit_callbacks)

    follow_ups = ModerationDecision.objects.filter(follows_id=job.moderation_decision_id)
    assert sorted((d.layer, d.decision) for d in follow_ups) == [
        ("", "allow"),
        ("external", "block"),
    ]
    assert deciding is not None and deciding.layer == "external"
    job.refresh_from_db()
    assert job.status == JobStatus.BLOCKED
    assert gpu_sends == []


def test_a_text_block_on_the_queue_does_not_call_the_external_api(
    fake_openai: FakeOpenAI,  # noqa: F811
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a soldier after the battle", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])
    scorer.next_scores = {"violence_graphic": 0.95}

    _check(job, django_capture_on_commit_callbacks)

    assert len(fake_openai.requests) == 0
    assert ModerationDecision.objects.filter(follows_id=job.moderation_decision_id).count() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.BLOCKED


def test_a_job_held_by_the_rules_is_still_blocked_by_the_deep_check(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    """A review rule holds the job at once (no waiting for the check); the deep check
    still runs, and a classifier block blocks the held job: strike, statement, released."""
    response = _submit(subscriber, "a nazi rally, 1936", django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.json()
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.awaiting_check) == (JobStatus.HELD_FOR_REVIEW, False)
    assert check_sends == [(str(job.pk), str(job.moderation_decision_id))]
    assert ReviewItem.objects.filter(subject_id=str(job.pk)).count() == 1
    scorer.next_scores = {"hate": 0.95}  # the policy's block is 0.9

    deep = _check(job, django_capture_on_commit_callbacks)

    assert deep is not None and (deep.decision, deep.category) == ("block", "hate")
    job.refresh_from_db()
    assert job.status == JobStatus.BLOCKED
    assert job.statement_id == deep.statement_id is not None
    assert Strike.objects.filter(user=subscriber).count() == 1
    assert balance(subscriber) == (100, 0)
    assert gpu_sends == []


def test_a_held_job_stays_held_when_the_deep_check_finds_nothing_more(
    policy: PolicyVersion,
    subscriber: User,
    scorer: FakeScorer,
    gpu_sends: list[str],
    check_sends: list[tuple[str, str]],
    django_capture_on_commit_callbacks,
) -> None:
    response = _submit(subscriber, "a nazi rally, 1936", django_capture_on_commit_callbacks)
    job = GenerationJob.objects.get(pk=response.json()["id"])

    deep = _check(job, django_capture_on_commit_callbacks)

    assert deep is not None and deep.follows_id == job.moderation_decision_id
    assert (deep.decision, deep.category, deep.layer) == ("review", "hate", "rules")
    job.refresh_from_db()
    assert job.status == JobStatus.HELD_FOR_REVIEW  # a moderator decides
    assert ReviewItem.objects.filter(subject_id=str(job.pk)).count() == 1
    assert gpu_sends == []
    assert balance(subscriber) == (99, 1)
