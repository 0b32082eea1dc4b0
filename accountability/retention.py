"""Retention (SPEC §7): prompt logs and images older than the configured period are
purged, except for users under legal hold and CSAM evidence (kept ≥ 1 year)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import LegalHold
from generation.models import GeneratedImage
from moderation.models import PromptLog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    prompt_logs: int
    images: int
    cutoff: dt.datetime


def held_user_ids() -> set[UUID]:
    return set(LegalHold.objects.filter(released_at__isnull=True).values_list("user_id", flat=True))


def purge_expired(*, now: dt.datetime | None = None) -> PurgeResult:
    """Delete prompt logs and image files older than ``IMAGEGATE_RETENTION_DAYS``.

    Prompt logs (``moderation.PromptLog``) are deleted; images
    (``generation.GeneratedImage``) lose their file and are marked ``purged_at`` (the
    row stays, for provenance look-ups). Rows of users under an active legal hold are
    kept. Safe to run any number of times.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.IMAGEGATE_RETENTION_DAYS)
    held = held_user_ids()
    prompt_logs = 0
    # Prompt logs reference a decision that may still be needed: their decisions keep
    # scores and the normalised prompt, and point here with SET_NULL.
    expired = PromptLog.objects.filter(created_at__lt=cutoff).exclude(user_id__in=held)
    prompt_logs, _ = expired.delete()
    images = 0
    expired_images = GeneratedImage.objects.filter(
        created_at__lt=cutoff, purged_at__isnull=True
    ).exclude(job__user_id__in=held)
    for image in expired_images.iterator(chunk_size=500):
        with transaction.atomic():
            claimed = GeneratedImage.objects.filter(pk=image.pk, purged_at__isnull=True).update(
                purged_at=timezone.now()
            )
            if not claimed:
                continue
            try:
                default_storage.delete(image.storage_key)
            except OSError:
                logger.warning("Could not delete image file %s", image.storage_key)
            images += 1
    if prompt_logs or images:
        audit_record(
            actor="system",
            action="retention.purge",
            after={"prompt_logs": prompt_logs, "images": images, "cutoff": cutoff.isoformat()},
            reason=f"Retention of {settings.IMAGEGATE_RETENTION_DAYS} days",
        )
    return PurgeResult(prompt_logs=prompt_logs, images=images, cutoff=cutoff)
