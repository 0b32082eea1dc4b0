"""People for the journeys, made directly in the database (journey 1 signs up for real)."""

from __future__ import annotations

from typing import Any

from tests.accountability.fixtures import TOTP_SECRET, make_user
from tests.generation.conftest import make_adult, subscribe

__all__ = ["TOTP_SECRET", "make_staff", "make_subscriber"]


def make_subscriber(email: str, credits: int = 100) -> Any:
    user = make_adult(email)
    subscribe(user, credits=credits)
    return user


def make_staff(email: str, group: str) -> Any:
    """A staff member in ``group`` with TOTP enrolled (secret ``TOTP_SECRET``)."""
    return make_user(email, groups=(group,))


def make_held_job(user: Any, prompt: str) -> tuple[Any, Any]:
    """A job held at the prompt stage with its review item, as submission leaves it."""
    from accountability.review import review_item_open
    from billing.credits import credits_reserve
    from generation.models import GenerationJob

    job = GenerationJob.objects.create(
        user=user, status="held_for_review", hold_stage="prompt", prompt=prompt,
        model_id="tiny-test", width=256, height=256, steps=4, guidance_scale=7.0, seed=1,
        credits_reserved=1, moderation_category="violence_graphic",
    )  # fmt: skip
    credits_reserve(user=user, amount=1, reference=job.credit_reference)
    item = review_item_open(
        kind="prompt",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=user,
        category="violence_graphic",
        severity=2,
        context={"prompt": prompt},
    )
    return job, item
