"""What a submit and a status poll cost, counted in SQL statements (never timed here).

The ceiling is the number ``make bench`` measured and wrote to docs/benchmarks.md, so a
change that adds statements to the submit path fails here, not only in the benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services import api_key_create
from billing.credits import credits_reserve
from billing.models import CreditLedgerEntry, LedgerKind
from generation.models import GenerationJob, JobStatus
from generation.selectors import queue_position
from moderation.models import ModerationDecision, PromptLog
from tests.generation.conftest import balance
from tests.markers import on_postgresql

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
GOOD: dict[str, object] = {
    "prompt": "a watercolour lighthouse at dawn",
    "width": 256,
    "height": 256,
    "steps": 4,
}


# An allowed submit in steady state (the API key already marked used this minute), on
# PostgreSQL: what each statement is, in order. One more than this (the key's
# ``last_used_at``, once a minute) is what ``make bench`` counts with fresh keys.
STEADY_STATE_STATEMENTS = [
    # The API key and its user (accounts.services), and in the same statement the gate
    # facts (generation.selectors.submit_facts_columns): email, billing flag, credits,
    # strikes, subscription terms.
    "SELECT",
    # One statement and no transaction: the reservation's conditional UPDATE of the
    # balance (billing.credits_reserve_rows) guarding the prompt log, the decision naming
    # the job (moderation), the job, taking its queue number, and the ledger entry.
    "WITH",
]


def benchmarked_statement_count() -> int:
    match = re.search(r"SQL statements per submit: (\d+)", DOC.read_text())
    assert match, "docs/benchmarks.md has no 'SQL statements per submit' (run make bench)"
    return int(match.group(1))


@pytest.fixture
def key_client(subscriber) -> APIClient:
    client = APIClient()
    raw = api_key_create(user=subscriber, name="t", scopes=["read", "generate"]).raw_key
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def submit(client: APIClient, prompt: str) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    assert response.status_code == 202, response.json()
    return response.json(), [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def reference_caches(settings) -> Iterator[None]:
    """The per-process reference caches on, as in production (jurisdictions and which
    policy version is newest; the test settings keep them off)."""
    from accounts.models import jurisdiction_cache_clear
    from moderation.policy import policy_newest_forget

    settings.IMAGEGATE_REFERENCE_CACHE_SECONDS = 60
    jurisdiction_cache_clear()
    policy_newest_forget()
    yield
    jurisdiction_cache_clear()
    policy_newest_forget()


@on_postgresql("the benchmark counts on PostgreSQL; SQLite reads the subscription apart")
def test_an_allowed_submit_stays_within_the_benchmarked_statement_count(
    key_client, subscriber, reference_caches
) -> None:
    submit(key_client, "a red barn in the snow")  # the key's first use marks it used
    body, statements = submit(key_client, "a watercolour lighthouse at dawn")
    assert body["status"] == "queued"
    assert len(statements) <= benchmarked_statement_count(), "\n".join(statements)
    if connection.vendor == "postgresql":
        # No transaction of its own (no BEGIN, nor a SAVEPOINT inside the test's).
        kinds = [s.lstrip().split(None, 1)[0].upper() for s in statements]
        assert kinds == STEADY_STATE_STATEMENTS, "\n".join(statements)
    # The strike weight is read with the other gate facts; the policy version and the
    # jurisdiction come from the per-process caches; no classifier runs in the request.
    strike_reads = [s for s in statements if "moderation_strike" in s]
    assert len(strike_reads) == 1 and "accounts_apikey" in strike_reads[0]  # the key's lookup
    assert not any("moderation_policyversion" in s for s in statements)
    assert not any("accounts_jurisdiction" in s for s in statements)
    assert body["moderation"]["decision"] == "checking"
    # One transaction, no lock-then-write on the credit account, no queue COUNT.
    assert sum(s.startswith("BEGIN") for s in statements) <= 1
    assert not any("FOR UPDATE" in s for s in statements)
    assert not any("COUNT(" in s for s in statements)
    assert body["queue_position"] is None
    # Every record is still written: prompt log, decision naming the job, job, ledger.
    job = GenerationJob.objects.get(pk=body["id"])
    assert job.moderation_decision_id is not None
    decision = ModerationDecision.objects.get(pk=job.moderation_decision_id)
    assert (decision.subject_type, decision.subject_id) == ("generation.job", str(job.pk))
    assert decision.prompt_log_id is not None
    assert PromptLog.objects.filter(pk=decision.prompt_log_id, prompt=GOOD["prompt"]).exists()
    reserve = CreditLedgerEntry.objects.get(kind=LedgerKind.RESERVE, reference=job.credit_reference)
    assert (reserve.amount, reserve.balance_after, reserve.reserved_after) == (1, 98, 2)
    assert balance(subscriber) == (98, 2)


def test_a_blocked_prompt_still_records_its_decision_and_names_no_job(api, subscriber) -> None:
    response = api.post(
        "/api/v1/generations", {**GOOD, "prompt": "nude photo of a 12 year old girl"}, format="json"
    )
    assert response.status_code == 422
    decision = ModerationDecision.objects.get(user=subscriber)
    assert decision.decision == "block"
    assert (decision.subject_type, decision.subject_id) == ("", "")
    assert not GenerationJob.objects.exists()
    assert balance(subscriber) == (100, 0)


def test_queue_position_follows_the_queue_without_counting(api, subscriber) -> None:
    ids = [
        api.post("/api/v1/generations", {**GOOD, "prompt": p}, format="json").json()["id"]
        for p in ("a red barn", "a blue boat", "a green hill")
    ]
    jobs = [GenerationJob.objects.get(pk=pk) for pk in ids]
    with CaptureQueriesContext(connection) as queries:
        positions = [queue_position(job=job) for job in jobs]
    assert positions == [1, 2, 3]
    if connection.vendor == "postgresql":
        assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
    GenerationJob.objects.filter(pk=jobs[0].pk).update(status=JobStatus.RUNNING)
    jobs = [GenerationJob.objects.get(pk=pk) for pk in ids]
    assert [queue_position(job=job) for job in jobs] == [None, 1, 2]


def test_status_poll_answers_304_while_nothing_shown_changed(api, subscriber) -> None:
    job_id = api.post("/api/v1/generations", GOOD, format="json").json()["id"]
    first = api.get(f"/api/v1/generations/{job_id}")
    assert first.status_code == 200
    assert first.json()["queue_position"] == 1
    etag = first["ETag"]
    assert etag.startswith('W/"')
    again = api.get(f"/api/v1/generations/{job_id}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    GenerationJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, progress_step=2)
    changed = api.get(f"/api/v1/generations/{job_id}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["progress"] == {"step": 2, "total": 4}
    assert changed["ETag"] != etag


def test_studio_progress_answers_304_while_nothing_shown_changed(client, subscriber) -> None:
    client.force_login(subscriber)
    api = APIClient()
    api.force_authenticate(subscriber)
    job_id = api.post("/api/v1/generations", GOOD, format="json").json()["id"]
    first = client.get(f"/studio/jobs/{job_id}/progress")
    assert first.status_code == 200
    again = client.get(f"/studio/jobs/{job_id}/progress", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    GenerationJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, progress_step=1)
    assert (
        client.get(f"/studio/jobs/{job_id}/progress", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 200
    )


def test_repeated_reservation_answers_the_first_even_when_the_balance_is_short(
    subscriber,
) -> None:
    first = credits_reserve(user=subscriber, amount=60, reference="generation:x")
    again = credits_reserve(user=subscriber, amount=60, reference="generation:x")
    assert first.created and not again.created
    assert again.amount == 60
    assert balance(subscriber) == (40, 60)
    assert CreditLedgerEntry.objects.filter(kind=LedgerKind.RESERVE).count() == 1


def test_jurisdictions_are_kept_per_process_and_a_save_is_seen_at_once(
    settings, django_assert_num_queries
) -> None:
    from accounts.models import Jurisdiction, jurisdiction_cache_clear
    from accounts.selectors import jurisdiction_for

    settings.IMAGEGATE_REFERENCE_CACHE_SECONDS = 60
    jurisdiction_cache_clear()
    try:
        with django_assert_num_queries(1):
            assert jurisdiction_for(country="de").country == "DE"
            assert jurisdiction_for(country="DE").country == "DE"
        germany = Jurisdiction.objects.get(country="DE", region="")
        germany.min_age = 21
        germany.save()
        with django_assert_num_queries(1):
            assert jurisdiction_for(country="DE").min_age == 21
    finally:
        jurisdiction_cache_clear()
