"""Image files of generation jobs: written beside their rows, swept when orphaned.

A job's images are saved under ``generations/<user>/<job>/<image>.png`` inside the
transaction that creates their rows; a failure before the commit deletes them again.
What no code path can clean up is a process killed, or a connection cut, between the
write and the commit (the commit's outcome is then unknown to the worker): the periodic
``generation.sweep_orphan_files`` deletes files under ``generations/`` that no row refers
to once they are older than ``GENERATION_ORPHAN_FILE_GRACE_SECONDS``, so files and rows
agree within that bound. Retention and erasure, which walk rows, handle the rest.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from generation.engine.provenance import apply_provenance
from generation.models import GeneratedImage, GenerationJob

logger = logging.getLogger(__name__)

IMAGE_PREFIX = "generations"


def image_key(job: GenerationJob, image_id: Any) -> str:
    return f"{IMAGE_PREFIX}/{job.user_id}/{job.pk}/{image_id}.png"


def c2pa_credentials() -> tuple[bytes | None, bytes | None]:
    cert_path, key_path = settings.C2PA_SIGNING_CERT, settings.C2PA_SIGNING_KEY
    if not cert_path or not key_path:
        return None, None
    return Path(cert_path).read_bytes(), Path(key_path).read_bytes()


def store_images(job: GenerationJob, images: list[Any]) -> list[GeneratedImage]:
    """Apply provenance and store each image (call inside the job's transaction)."""
    cert, key = c2pa_credentials()
    stored: list[GeneratedImage] = []
    saved_keys: list[str] = []
    # A previous attempt's output (rows and files) is replaced, never left behind.
    for previous in job.images.all():
        default_storage.delete(previous.storage_key)
    job.images.all().delete()
    try:
        for index, img in enumerate(images):
            image_id = uuid.uuid4()
            data = apply_provenance(
                img,
                image_id=image_id,
                generation_id=job.pk,
                model_id=job.model_id,
                no_distribution=job.no_distribution,
                c2pa_cert=cert,
                c2pa_key=key,
            )
            saved_key = default_storage.save(image_key(job, image_id), ContentFile(data))
            saved_keys.append(saved_key)
            stored.append(
                GeneratedImage.objects.create(
                    id=image_id,
                    job=job,
                    index=index,
                    width=img.width,
                    height=img.height,
                    sha256=hashlib.sha256(data).hexdigest(),
                    render_sha256=hashlib.sha256(img.convert("RGB").tobytes()).hexdigest(),
                    storage_key=saved_key,
                    has_watermark=min(img.width, img.height) >= 256,
                    has_c2pa=cert is not None,
                )
            )
    except BaseException:
        # The rows roll back with the transaction; the files must go with them.
        for saved_key in saved_keys:
            default_storage.delete(saved_key)
        raise
    return stored


def _walk(folder: str) -> Iterator[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in folders:
        yield from _walk(f"{folder}/{name}")


def orphan_grace_seconds() -> int:
    return int(getattr(settings, "GENERATION_ORPHAN_FILE_GRACE_SECONDS", 3600))


def orphan_files_delete(
    *, grace_seconds: int | None = None, folder: str = IMAGE_PREFIX, batch: int = 500
) -> int:
    """Delete image files older than the grace period that no image row refers to.

    The grace period covers a write whose transaction has not committed yet; a row
    committed later than that is impossible (the worker's lease and the hard time
    limit end every attempt sooner). Returns how many files were deleted.
    """
    grace = orphan_grace_seconds() if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    deleted = 0
    pending: list[str] = []

    def flush() -> int:
        known = set(
            GeneratedImage.objects.filter(storage_key__in=pending).values_list(
                "storage_key", flat=True
            )
        )
        count = 0
        for key in pending:
            if key not in known:
                default_storage.delete(key)
                logger.warning("deleted orphan image file %s (no row)", key)
                count += 1
        pending.clear()
        return count

    for key in _walk(folder):
        if default_storage.get_modified_time(key) >= cutoff:
            continue
        pending.append(key)
        if len(pending) >= batch:
            deleted += flush()
    if pending:
        deleted += flush()
    return deleted
