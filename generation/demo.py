"""Demo review work for ``seed_demo``: a held prompt in the moderators' queue."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accountability.review import review_item_open
from billing.credits import credits_balance, credits_reserve
from billing.pricing import generation_cost
from generation.catalog import default_model_id
from generation.models import GenerationJob, HoldStage, JobStatus
from generation.services import review_context

DEMO_KEY = "demo-held-prompt"
DEMO_PROMPT = "a knight with a bloody sword standing over the fallen after the battle"


@transaction.atomic
def seed_review_items(*, user: Any) -> GenerationJob | None:
    """Hold one prompt of ``user`` for review, once; its credits are reserved as usual."""
    if GenerationJob.objects.filter(user=user, idempotency_key=DEMO_KEY).exists():
        return None
    cost = generation_cost(width=256, height=256, steps=20, num_images=1)
    if credits_balance(user=user).balance < cost:
        return None
    job = GenerationJob.objects.create(
        user=user,
        status=JobStatus.HELD_FOR_REVIEW,
        hold_stage=HoldStage.PROMPT,
        idempotency_key=DEMO_KEY,
        prompt=DEMO_PROMPT,
        model_id=default_model_id(),
        width=256,
        height=256,
        steps=20,
        guidance_scale=7.5,
        seed=42,
        credits_reserved=cost,
        progress_total=20,
        moderation_category="violence_graphic",
    )
    credits_reserve(user=user, amount=cost, reference=job.credit_reference)
    review_item_open(
        kind="prompt",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=user,
        category="violence_graphic",
        severity=2,
        context={**review_context(job, None), "note": "Seeded by seed_demo for the console demo."},
    )
    return job
