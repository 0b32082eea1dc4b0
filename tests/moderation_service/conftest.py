from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group

from accounts.models import AgeVerificationStatus, Jurisdiction, User
from moderation.models import PolicyVersion
from moderation.policy import (
    default_policy_document,
    policy_publish,
    reset_text_classifier,
    set_text_classifier,
)

FIXED_THRESHOLDS = {
    "sexual": {"allow": 0.5, "block": 0.9},
    "violence_graphic": {"allow": 0.5, "block": 0.9},
    "hate": {"allow": 0.5, "block": 0.9},
    "self_harm": {"allow": 0.5, "block": 0.9},
    "illegal": {"allow": 0.5, "block": 0.95},
}


class FakeScorer:
    """Stands in for the MiniLM classifier: returns the scores a test sets."""

    def __init__(self) -> None:
        self.next_scores: dict[str, float] = {}

    def scores(self, text: str) -> dict[str, float]:
        return {c: 0.0 for c in FIXED_THRESHOLDS} | self.next_scores


@pytest.fixture
def scorer() -> Iterator[FakeScorer]:
    fake = FakeScorer()
    set_text_classifier(fake)
    yield fake
    reset_text_classifier()


@pytest.fixture
def senior(db: None) -> User:
    user = User.objects.create_user(email="senior@example.com", password="x-long-password-1")
    group, _ = Group.objects.get_or_create(name="senior_moderators")
    user.groups.add(group)
    return user


@pytest.fixture
def member(db: None) -> User:
    return User.objects.create_user(
        email="member@example.com",
        password="x-long-password-1",
        country="DE",
        age_verification_status=AgeVerificationStatus.VERIFIED,
    )


def fixed_document(**changes: Any) -> dict[str, Any]:
    document = default_policy_document()
    document["categories"] = copy.deepcopy(FIXED_THRESHOLDS)
    for key, value in changes.items():
        document[key] = value
    return document


@pytest.fixture
def policy(senior: User, scorer: FakeScorer) -> PolicyVersion:
    """A policy with known thresholds, whatever the shipped head was tuned to."""
    return policy_publish(actor=senior, document=fixed_document(), reason="test thresholds")


@pytest.fixture
def jurisdiction() -> Jurisdiction:
    return Jurisdiction(country="DE", name="Germany")
