"""Reads for generation jobs and images.

A job or image the actor may not see raises the same not-found as one that does not
exist (SPEC §9: unknown or foreign objects answer 404, never 403).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from accounts.roles import user_can_review
from core.errors import ApplicationError, ErrorCode
from generation.models import GeneratedImage, GenerationJob, JobStatus, ShareLink


def _as_uuid(value: Any) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (TypeError, ValueError):
        return None


def job_list_for_user(*, user: Any) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(user=user).prefetch_related("images")


def job_get_for_user(*, user: Any, job_id: Any) -> GenerationJob:
    job_uuid = _as_uuid(job_id)
    job = (
        GenerationJob.objects.filter(pk=job_uuid, user=user).prefetch_related("images").first()
        if job_uuid
        else None
    )
    if job is None:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return job


def image_visible_to(*, user: Any, image_id: Any, share_token: str = "") -> GeneratedImage:
    """The image if ``user`` may see it: its owner once the job succeeded, a moderator,
    or anyone holding an active share link to it (``share_token``)."""
    image_uuid = _as_uuid(image_id)
    image = (
        GeneratedImage.objects.select_related("job")
        .filter(pk=image_uuid, purged_at__isnull=True)
        .first()
        if image_uuid
        else None
    )
    if image is None or not user.is_authenticated:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    if user_can_review(user):
        return image
    if image.job.status == JobStatus.SUCCEEDED and (
        image.job.user_id == user.pk
        or (
            share_token
            and ShareLink.objects.filter(
                image=image, token=share_token, revoked_at__isnull=True
            ).exists()
        )
    ):
        return image
    raise ApplicationError(ErrorCode.NOT_FOUND)


def image_for_share_token(*, token: str) -> GeneratedImage:
    link = (
        ShareLink.objects.select_related("image__job")
        .filter(token=token, revoked_at__isnull=True, image__purged_at__isnull=True)
        .first()
    )
    if link is None or link.image.job.status != JobStatus.SUCCEEDED:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return link.image


def image_for_watermark(*, key: bytes, image_id_range: tuple[UUID, UUID]) -> GeneratedImage | None:
    low, high = image_id_range
    return (
        GeneratedImage.objects.select_related("job")
        .filter(id__gte=low, id__lte=high)
        .order_by("created_at")
        .first()
    )


def queue_position(*, job: GenerationJob) -> int | None:
    """How many queued jobs are ahead of this one (1 = next), while it is queued."""
    if job.status != JobStatus.QUEUED or job.queued_at is None:
        return None
    ahead = GenerationJob.objects.filter(
        status=JobStatus.QUEUED, queued_at__lt=job.queued_at
    ).count()
    return ahead + 1
