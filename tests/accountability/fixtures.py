"""Users in every role and held jobs.

Imported by the conftest of tests/accountability and tests/console.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.models import AgeVerificationStatus, User

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def make_user(
    email: str | None = None,
    *,
    groups: tuple[str, ...] = (),
    superuser: bool = False,
    totp: bool = True,
) -> User:
    user = User.objects.create_user(
        email=email or f"user-{uuid.uuid4().hex[:8]}@example.com",
        password="a-long-test-password",
        date_of_birth=dt.date(1990, 5, 17),
        country="DE",
        age_verification_status=AgeVerificationStatus.VERIFIED,
        age_verified_at=timezone.now(),
        is_staff=bool(groups) or superuser,
        is_superuser=superuser,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    if totp and (groups or superuser):
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def subscriber(db) -> User:
    return make_user("subscriber-acc@example.com")


@pytest.fixture
def other_user(db) -> User:
    return make_user("other-acc@example.com")


@pytest.fixture
def billing_admin(db) -> User:
    return make_user("billing-acc@example.com", groups=("billing_admins",))


@pytest.fixture
def moderator(db) -> User:
    return make_user("moderator-acc@example.com", groups=("moderators",))


@pytest.fixture
def moderator2(db) -> User:
    return make_user("moderator2-acc@example.com", groups=("moderators",))


@pytest.fixture
def senior(db) -> User:
    return make_user("senior-acc@example.com", groups=("senior_moderators",))


@pytest.fixture
def senior2(db) -> User:
    return make_user("senior2-acc@example.com", groups=("senior_moderators",))


@pytest.fixture
def superuser(db) -> User:
    return make_user("root-acc@example.com", superuser=True)


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    def build(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return build


def grant_credits(user: User, amount: int) -> None:
    from billing.credits import credits_grant

    credits_grant(user=user, amount=amount, reason="test", reference=f"test:{uuid.uuid4()}")


def balance(user: User) -> tuple[int, int]:
    from billing.credits import credits_balance

    result = credits_balance(user=user)
    return result.balance, result.reserved


def make_held_job(user: User, *, stage: str = "output", credits: int = 4, images: int = 1) -> Any:
    """A job held for review with its credits reserved, as generation leaves it."""
    from billing.credits import credits_reserve
    from generation.models import GeneratedImage, GenerationJob

    grant_credits(user, 10)
    job = GenerationJob.objects.create(
        user=user,
        status="held_for_review",
        hold_stage=stage,
        prompt="a lighthouse at dusk",
        model_id="tiny-sd",
        width=512,
        height=512,
        steps=25,
        guidance_scale=7.0,
        seed=1,
        credits_reserved=credits,
        moderation_category="violence_graphic",
    )
    credits_reserve(user=user, amount=credits, reference=job.credit_reference)
    if stage == "output":
        for index in range(images):
            GeneratedImage.objects.create(
                job=job, index=index, width=512, height=512, sha256="0" * 64, storage_key="x"
            )
    return job


def claim(moderator: User) -> Any:
    """Claim next, asserting there was something to claim."""
    from accountability.review import review_claim_next

    item = review_claim_next(moderator=moderator)
    assert item is not None
    return item
