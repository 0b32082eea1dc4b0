"""The job state machine under races, on PostgreSQL: fencing tokens, hand-offs that
meet a job in any state, the dispatch reconciler's order, and submit answering what
happened when the broker or the database fails after the commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.models import ReviewItem
from accounts.services import api_key_create
from billing.models import CreditLedgerEntry, LedgerKind
from generation import selectors
from generation.attempts import (
    OutputVerdict,
    StaleAttempt,
    attempt_cancel,
    attempt_claim,
    attempt_conclude,
    attempt_fail_or_requeue,
    attempt_renew,
    jobs_recover_expired,
    jobs_redispatch,
)
from generation.models import GenerationJob, HoldStage, JobStatus
from generation.services import (
    GenerationRequest,
    generation_block,
    generation_cancel,
    generation_hold_for_review,
    generation_submit,
)
from moderation.models import ModerationDecision, PromptLog
from tests.faults.harness import assert_books_balance, settled_kinds, web_process_broker
from tests.generation.conftest import balance, make_adult, subscribe
from tests.markers import on_postgresql

pytestmark = pytest.mark.django_db(transaction=True)

SMALL: dict[str, Any] = {
    "prompt": "a watercolour lighthouse at dawn",
    "width": 64,
    "height": 64,
    "steps": 4,
}
CLOSED_BROKER = "redis://127.0.0.1:6409/0"  # nothing listens there


class Verdict:
    decision = "review"
    category = "hate"
    severity = 2
    statement = None
    pk = None


@pytest.fixture
def user() -> Any:
    user = make_adult()
    subscribe(user)
    return user


@pytest.fixture
def job(user: Any) -> GenerationJob:
    with web_process_broker(CLOSED_BROKER):
        return generation_submit(user=user, request=GenerationRequest(**SMALL))


def expire_lease(job: GenerationJob) -> None:
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def no_store(job: GenerationJob) -> list[Any]:
    raise AssertionError("a stale attempt must not store images")


def test_a_stale_attempt_can_neither_renew_cancel_fail_nor_settle(job: GenerationJob) -> None:
    first = attempt_claim(job_id=str(job.pk), worker="a")
    assert first is not None
    expire_lease(job)
    assert jobs_recover_expired()["requeued"] == 1
    second = attempt_claim(job_id=str(job.pk), worker="b")
    assert second is not None and second.token != first.token
    with pytest.raises(StaleAttempt):
        attempt_renew(attempt=first, step=3, total=4)
    assert attempt_cancel(attempt=first, timings={}) is False
    assert attempt_fail_or_requeue(attempt=first, error="boom") is None
    with pytest.raises(StaleAttempt):
        attempt_conclude(attempt=first, verdict=OutputVerdict("allow"), timings={}, store=no_store)
    current = GenerationJob.objects.get(pk=job.pk)
    assert (current.status, current.worker, current.attempts) == (JobStatus.RUNNING, "b", 2)
    assert current.progress_step == 0
    assert settled_kinds(current) == ["reserve"]


def test_a_job_canceled_while_its_worker_was_away_is_never_charged(
    job: GenerationJob, user: Any
) -> None:
    """F2: paused past the lease, re-queued, canceled by the user; the worker wakes up
    with finished images and tries to succeed: refused, nothing charged."""
    stale = attempt_claim(job_id=str(job.pk), worker="paused")
    assert stale is not None
    expire_lease(job)
    assert jobs_recover_expired()["requeued"] == 1
    generation_cancel(user=user, job_id=job.pk)
    with pytest.raises(StaleAttempt):
        attempt_conclude(attempt=stale, verdict=OutputVerdict("allow"), timings={}, store=no_store)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert job.credits_charged == 0
    assert settled_kinds(job) == ["release", "reserve"]
    assert balance(user) == (100, 0)
    assert_books_balance()


def test_a_running_job_whose_cancel_was_asked_is_canceled_by_the_sweeper(
    job: GenerationJob, user: Any
) -> None:
    attempt = attempt_claim(job_id=str(job.pk), worker="a")
    assert attempt is not None
    generation_cancel(user=user, job_id=job.pk)
    expire_lease(job)
    assert jobs_recover_expired() == {"requeued": 0, "failed": 0, "canceled": 1}
    assert attempt_claim(job_id=str(job.pk), worker="b") is None
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert balance(user) == (100, 0)
    assert_books_balance()


def test_the_gpu_claim_refuses_a_job_waiting_for_its_prompt_check(job: GenerationJob) -> None:
    GenerationJob.objects.filter(pk=job.pk).update(awaiting_check=True)
    assert attempt_claim(job_id=str(job.pk), worker="gpu") is None
    assert GenerationJob.objects.get(pk=job.pk).attempts == 0


def test_hold_for_review_fences_out_a_running_attempt(job: GenerationJob) -> None:
    """F6: the check's ``review`` arrives while the job runs: held before generation, the
    worker's later writes are refused, nothing stored or charged."""
    attempt = attempt_claim(job_id=str(job.pk), worker="gpu")
    assert attempt is not None
    held = generation_hold_for_review(job_id=job.pk, decision=Verdict())
    assert (held.status, held.hold_stage) == (JobStatus.HELD_FOR_REVIEW, HoldStage.PROMPT)
    with pytest.raises(StaleAttempt):
        attempt_renew(attempt=attempt, step=1, total=4)
    with pytest.raises(StaleAttempt):
        attempt_conclude(
            attempt=attempt, verdict=OutputVerdict("allow"), timings={}, store=no_store
        )
    assert ReviewItem.objects.filter(subject_id=str(job.pk), kind="prompt").count() == 1
    assert settled_kinds(held) == ["reserve"]
    assert_books_balance(finished=False)


def test_hold_for_review_withdraws_a_job_delivered_without_its_check(
    job: GenerationJob,
) -> None:
    attempt = attempt_claim(job_id=str(job.pk), worker="gpu")
    assert attempt is not None
    attempt_conclude(
        attempt=attempt, verdict=OutputVerdict("allow"), timings={}, store=lambda job: []
    )
    held = generation_hold_for_review(job_id=job.pk, decision=Verdict())
    assert (held.status, held.hold_stage) == (JobStatus.HELD_FOR_REVIEW, HoldStage.OUTPUT)
    assert ReviewItem.objects.filter(subject_id=str(job.pk), kind="output").count() == 1
    # Held twice (the check re-sent) opens nothing more and changes nothing.
    again = generation_hold_for_review(job_id=job.pk, decision=Verdict())
    assert (again.status, again.hold_stage) == (JobStatus.HELD_FOR_REVIEW, HoldStage.OUTPUT)
    assert ReviewItem.objects.filter(subject_id=str(job.pk)).count() == 1


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("queued", ["release", "reserve"]),
        ("running", ["release", "reserve"]),
        ("canceled", ["release", "reserve"]),
    ],
)
def test_a_block_from_the_check_settles_once_whatever_the_state(
    job: GenerationJob, user: Any, state: str, expected: list[str]
) -> None:
    if state == "running":
        attempt = attempt_claim(job_id=str(job.pk), worker="gpu")
        assert attempt is not None
    elif state == "canceled":
        generation_cancel(user=user, job_id=job.pk)
    before = GenerationJob.objects.get(pk=job.pk).status
    blocked = generation_block(job_id=job.pk, decision=Verdict())
    assert blocked.status == (JobStatus.CANCELED if state == "canceled" else JobStatus.BLOCKED)
    assert before == state
    assert settled_kinds(blocked) == expected
    assert balance(user) == (100, 0)
    assert_books_balance()


def test_redispatch_resends_by_priority_then_age_and_keeps_queue_places(
    user: Any, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.GENERATION_DISPATCH_RESEND_SECONDS = 60
    now = timezone.now()
    jobs = []
    with web_process_broker(CLOSED_BROKER):
        for seed in range(4):
            jobs.append(generation_submit(user=user, request=GenerationRequest(**SMALL, seed=seed)))
    # Queued 5, 4, 3, 2 minutes ago; the two youngest on a higher-priority plan.
    for minutes, job, priority in zip((5, 4, 3, 2), jobs, (5, 5, 1, 1), strict=True):
        GenerationJob.objects.filter(pk=job.pk).update(
            queued_at=now - dt.timedelta(minutes=minutes),
            dispatched_at=now - dt.timedelta(minutes=minutes),
            queue_priority=priority,
        )
    fresh = jobs[3]
    GenerationJob.objects.filter(pk=fresh.pk).update(dispatched_at=now)  # its message is young
    positions = {job.pk: selectors.queue_position(job=GenerationJob.objects.get(pk=job.pk))
                 for job in jobs}  # fmt: skip
    sent: list[tuple[str, int]] = []
    from generation.tasks import run_generation

    monkeypatch.setattr(
        run_generation,
        "apply_async",
        lambda args, priority: sent.append((args[0], priority)),
    )
    assert jobs_redispatch(now=now) == {"resent": 3, "rechecked": 0}
    assert sent == [(str(jobs[2].pk), 1), (str(jobs[0].pk), 5), (str(jobs[1].pk), 5)]
    assert jobs_redispatch(now=now) == {"resent": 0, "rechecked": 0}  # not twice per bound
    for job in jobs:
        current = GenerationJob.objects.get(pk=job.pk)
        assert selectors.queue_position(job=current) == positions[job.pk]


def test_submit_answers_202_with_the_job_when_the_broker_is_down(api_for, user: Any) -> None:
    """F3: the publish after the commit fails: the answer is still 202 with the job (the
    reconciler sends it later), and a retry with the same key does not charge again."""
    client = api_for(user)
    with web_process_broker(CLOSED_BROKER):
        first = client.post("/api/v1/generations", SMALL, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post("/api/v1/generations", SMALL, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202, first.content
    assert again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    job = GenerationJob.objects.get()
    assert (job.status, job.dispatched_at is not None) == (JobStatus.QUEUED, True)
    assert balance(user) == (100 - job.credits_reserved, job.credits_reserved)


def _terminate_own_backend() -> None:
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_submit_answers_202_when_the_database_drops_after_the_commit(
    api_for, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F3: the connection dies right after the commit (while the job is being published,
    to a broker that is down too): the answer is still 202 with the committed job."""
    from generation import tasks

    calls: list[str] = []

    def drop_then_publish(args: Any, **options: Any) -> None:
        calls.append(str(args[0]))
        _terminate_own_backend()
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_generation, "apply_async", drop_then_publish)
    response = api_for(user).post("/api/v1/generations", SMALL, format="json")
    connection.close()
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["queue_position"] is None
    assert calls == [body["id"]]
    assert GenerationJob.objects.get().pk.hex == body["id"].replace("-", "")


@on_postgresql("cuts the psycopg connection")
def test_the_allowed_prompt_s_one_statement_lost_with_its_connection_writes_nothing(
    api_for, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies as an allowed prompt's one statement (prompt log, decision,
    job, reservation; no transaction around it) is sent: 503, and none of its rows
    exists, nor has the balance moved."""
    from generation import services

    record = services.prompt_record

    def cut_then_record(*args: Any, **kwargs: Any) -> Any:
        _terminate_own_backend()
        return record(*args, **kwargs)

    monkeypatch.setattr(services, "prompt_record", cut_then_record)
    response = api_for(user).post("/api/v1/generations", SMALL, format="json")
    connection.close()
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert GenerationJob.objects.count() == 0
    assert PromptLog.objects.filter(user_id=user.pk).count() == 0
    assert ModerationDecision.objects.filter(user=user).count() == 0
    assert not CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.RESERVE).exists()
    assert balance(user) == (100, 0)


@on_postgresql("cuts the psycopg connection")
def test_a_database_outage_at_the_api_key_lookup_answers_503(user: Any) -> None:
    """A submit by API key reads the key and the gate facts in one statement, in DRF's
    authentication: a dead connection there is a 503 too, not a 401 or a 500."""
    raw = api_key_create(user=user, name="k", scopes=["generate"]).raw_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _terminate_own_backend()
    response = client.post("/api/v1/generations", SMALL, format="json")
    connection.close()
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert GenerationJob.objects.count() == 0
    assert balance(user) == (100, 0)


@on_postgresql("cuts the psycopg connection")
def test_a_database_outage_answers_503_with_retry_after(api_for, user: Any) -> None:
    """F8: the database is gone mid-request: 503 ``service_unavailable`` with
    ``Retry-After`` in the spec's envelope, never a 500; nothing changed."""
    client = api_for(user)
    assert client.get("/api/v1/generations").status_code == 200
    _terminate_own_backend()
    response = client.post("/api/v1/generations", SMALL, format="json")
    connection.close()
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "A service this request needs is unavailable; try again shortly.",
            "details": {"retry_after": 5},
        }
    }
    assert GenerationJob.objects.count() == 0
    assert balance(user) == (100, 0)
