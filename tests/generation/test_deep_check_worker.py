"""The deep check in a real Celery worker on the ``moderation`` queue, with the real
classifiers: a prompt no term list names, but the classifier blocks, is accepted (202,
queued while it is checked), then blocked before the GPU; a benign one goes on to the
GPU queue. No GPU worker runs here, so whatever reaches the ``gpu`` queue stays there.
"""

from __future__ import annotations

import time

import pytest

from accountability.models import StatementOfReasons
from generation.models import GenerationJob, JobStatus
from imagegate.celery import app
from moderation.models import ModerationDecision, Strike
from moderation.policy import policy_compiled, text_moderator
from tests.generation.conftest import balance, make_adult, subscribe
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Graphic violence in words no term list holds (checked below, so a new term that
# catches it says so instead of silently testing the rules).
UNSAFE = "a fighter pilot's body ripped in half by an exploding grenade on the battlefield"
BENIGN = "a watercolour lighthouse at dawn"
REQUEST = {"width": 256, "height": 256, "steps": 4}


def _gpu_messages() -> int:
    """Messages waiting on the ``gpu`` queue (declared as Celery declares it)."""
    with app.connection_for_read() as connection, connection.channel() as channel:
        declared = app.amqp.queues["gpu"].bind(channel).queue_declare()
        return int(declared.message_count)


def _wait(job_id: str, done, timeout: float = 180) -> GenerationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = GenerationJob.objects.get(pk=job_id)
        if done(job):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} still {GenerationJob.objects.get(pk=job_id).status}")


def test_a_classifier_only_block_is_decided_by_the_moderation_worker(api_for) -> None:
    rules_only = text_moderator(policy_compiled(), classifiers=False).check(UNSAFE)
    # The rules decide nothing here (at most an indicator term, which never blocks alone).
    assert rules_only.decision == "allow"
    assert {hit["action"] for hit in rules_only.scores["rules"]} <= {"indicator"}
    user = make_adult()
    subscribe(user)
    client = api_for(user)
    before = _gpu_messages()

    unsafe = client.post("/api/v1/generations", {**REQUEST, "prompt": UNSAFE}, format="json")
    benign = client.post("/api/v1/generations", {**REQUEST, "prompt": BENIGN}, format="json")

    assert (unsafe.status_code, benign.status_code) == (202, 202)
    assert unsafe.json()["status"] == "queued"
    assert unsafe.json()["moderation"]["decision"] == "checking"
    assert balance(user) == (98, 2)
    with running_worker(queues="moderation"):
        blocked = _wait(unsafe.json()["id"], lambda job: job.status != JobStatus.QUEUED)
        passed = _wait(benign.json()["id"], lambda job: not job.awaiting_check)
        # The worker hands the job on after its commit: wait for the message before the
        # worker stops (stopping it between the two would leave it to the reconciler).
        deadline = time.monotonic() + 30
        while _gpu_messages() - before < 1 and time.monotonic() < deadline:
            time.sleep(0.1)

    assert (blocked.status, blocked.moderation_category) == (JobStatus.BLOCKED, "violence_graphic")
    assert blocked.started_at is None and blocked.credits_charged == 0
    deep = ModerationDecision.objects.get(follows_id=blocked.moderation_decision_id)
    assert (deep.decision, deep.layer) == ("block", "classifier")
    assert deep.scores["classifier_stage"] == "queue"
    assert deep.scores["timings_ms"]["classifier"] > 0
    assert blocked.statement_id is not None
    statement = StatementOfReasons.objects.get(pk=blocked.statement_id)
    assert "automated text classifier layer" in statement.facts
    assert Strike.objects.get(user=user).decision == deep
    assert (passed.status, passed.awaiting_check) == (JobStatus.QUEUED, False)
    assert balance(user) == (99, 1)  # the blocked job's credit released, the other reserved
    assert _gpu_messages() - before == 1  # the benign job only
    body = client.get(f"/api/v1/generations/{blocked.pk}").json()
    assert body["moderation"] == {
        "decision": "block",
        "category": "violence_graphic",
        "statement_id": str(statement.pk),
    }
