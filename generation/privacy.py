"""The generation app's part of a user's data export and account erasure."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from generation.models import GeneratedImage, GenerationJob


def generation_export_for_user(user: Any) -> list[dict[str, Any]]:
    """Every job of the user with its parameters, outcome and image ids."""
    return [
        {
            "id": str(job.pk),
            "created_at": job.created_at.isoformat(),
            "status": job.status,
            "prompt": job.prompt,
            "negative_prompt": job.negative_prompt,
            "model": job.model_id,
            "params": {
                "width": job.width,
                "height": job.height,
                "steps": job.steps,
                "guidance_scale": job.guidance_scale,
                "seed": job.seed,
                "num_images": job.num_images,
                "no_distribution": job.no_distribution,
            },
            "credits_charged": job.credits_charged,
            "images": [
                {"id": str(image.pk), "sha256": image.sha256, "purged": image.purged_at is not None}
                for image in job.images.all()
            ],
        }
        for job in GenerationJob.objects.filter(user=user).prefetch_related("images")
    ]


def generation_erase_for_user(user: Any, under_legal_hold: bool) -> list[str]:
    """Delete the user's images and prompts, unless a legal hold preserves them.

    Job rows stay (with their credit charges, for accounting), without their text.
    Returns what was kept, for the user's erasure receipt.
    """
    if under_legal_hold:
        return ["Your generations and images, preserved under a legal obligation."]
    now = timezone.now()
    images = GeneratedImage.objects.filter(job__user=user, purged_at__isnull=True)
    for image in images:
        if default_storage.exists(image.storage_key):
            default_storage.delete(image.storage_key)
    images.update(purged_at=now)
    GenerationJob.objects.filter(user=user).update(prompt="", negative_prompt="")
    return ["The dates, sizes and credit charges of your generations (accounting records)."]
