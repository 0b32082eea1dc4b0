"""A German user's prompt that only the classifier, under Germany's stricter regional
threshold, finds violent: the API answers 202 held (no 422, no strike) and says a
regional rule applied; the statement of reasons says so too (issue 11, item 6).

With the classifiers on the moderation queue (the default) the submit answers 202
queued while the prompt is checked, and the job's answer says the same once the deep
check has held it; with them in the request the submit's own answer says so."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accountability.models import StatementOfReasons
from accounts.models import User
from generation.models import GenerationJob
from moderation.models import Strike
from moderation.policy import policy_publish
from moderation.services import prompt_check_async
from tests.generation.conftest import balance, make_adult, subscribe
from tests.moderation_service.conftest import FakeScorer, fixed_document

pytestmark = pytest.mark.django_db

PROMPT = {"prompt": "a knight with a sword after the battle", "width": 256, "height": 256}
CHECKING = {
    "decision": "checking",
    "category": None,
    "statement_id": None,
    "note": "Checking the prompt against the content policy before it is queued.",
}


def _after_the_check(client: APIClient, body: dict) -> dict:
    """The job's answer once the deep check ran (directly: the broker is another test's)."""
    job = GenerationJob.objects.get(pk=body["id"])
    assert (body["status"], body["moderation"]) == ("queued", CHECKING)
    assert job.awaiting_check is True
    prompt_check_async(decision_id=str(job.moderation_decision_id), job_id=str(job.pk))
    return client.get(f"/api/v1/generations/{job.pk}").json()


@pytest.mark.parametrize("stage", ["queue", "request"])
def test_a_regional_classifier_only_signal_is_held_and_the_answer_says_so(
    senior: User, scorer: FakeScorer, settings, stage: str
) -> None:
    settings.MODERATION_CLASSIFIER_STAGE = stage
    policy_publish(
        actor=senior, document=fixed_document(regional_min_unsafe=0.3), reason="test floor"
    )
    user = make_adult("knight-fan@example.com")  # country DE: the seeded stricter row
    subscribe(user)
    client = APIClient()
    client.force_authenticate(user)
    scorer.next_scores = {"violence_graphic": 0.45}  # policy's own allow is 0.5

    response = client.post("/api/v1/generations", {**PROMPT, "steps": 4}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    if stage == "queue":
        body = _after_the_check(client, body)
    assert body["status"] == "held_for_review"
    statement = StatementOfReasons.objects.get(user=user)
    assert body["moderation"] == {
        "decision": "review",
        "category": "violence_graphic",
        "statement_id": str(statement.pk),
        "regional_rule": {
            "jurisdiction": "DE",
            "category": "violence_graphic",
            "note": "Held for review under a stricter regional threshold; no strike.",
        },
    }
    assert "stricter regional rule for DE" in statement.facts
    assert not Strike.objects.filter(user=user).exists()
    assert GenerationJob.objects.get().statement_id == statement.pk
    assert balance(user) == (99, 1)  # reserved while a moderator decides


@pytest.mark.parametrize("stage", ["queue", "request"])
def test_without_the_regional_rule_the_same_prompt_is_queued(
    senior: User, scorer: FakeScorer, settings, stage: str
) -> None:
    settings.MODERATION_CLASSIFIER_STAGE = stage
    policy_publish(
        actor=senior, document=fixed_document(regional_min_unsafe=0.3), reason="test floor"
    )
    user = make_adult("knight-fan-gb@example.com", country="GB")
    subscribe(user)
    client = APIClient()
    client.force_authenticate(user)
    scorer.next_scores = {"violence_graphic": 0.45}

    response = client.post("/api/v1/generations", {**PROMPT, "steps": 4}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    if stage == "queue":
        body = _after_the_check(client, body)
    assert body["status"] == "queued"
    assert body["moderation"] is None
    assert GenerationJob.objects.get().awaiting_check is False
    assert not StatementOfReasons.objects.exists()
