"""Provenance as the GPU task applies it: stored files carry the watermark, the
AI-generated metadata and, when a signing certificate is configured, a C2PA manifest."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation.engine.provenance import inspect_image
from generation.files import store_images as _store_images
from generation.models import GenerationJob
from tests.generation.conftest import make_adult
from tests.generation_engine.conftest import c2pa_signing  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def job_for(user, **fields) -> GenerationJob:
    return GenerationJob.objects.create(
        user=user, status="running", prompt="a lighthouse", model_id="tiny-test", width=256,
        height=256, steps=4, guidance_scale=7.5, seed=1, credits_reserved=1, **fields,
    )  # fmt: skip


def render() -> Image.Image:
    return Image.effect_noise((256, 256), 60).convert("RGB")


def test_stored_image_carries_watermark_and_metadata_without_c2pa(settings) -> None:
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    job = job_for(make_adult(), no_distribution=True)
    [image] = _store_images(job, [render()])
    with default_storage.open(image.storage_key, "rb") as handle:
        report = inspect_image(handle.read())
    assert report.watermark_payload is not None and report.watermark_payload.matches(image.pk)
    assert report.metadata["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert report.metadata["no_distribution"] is True
    assert report.c2pa is None
    assert image.has_c2pa is False


def test_configured_certificate_signs_a_c2pa_manifest(settings, tmp_path, c2pa_signing) -> None:  # noqa: F811
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(c2pa_signing.cert_chain_pem)
    key.write_bytes(c2pa_signing.key_pem)
    settings.C2PA_SIGNING_CERT, settings.C2PA_SIGNING_KEY = str(cert), str(key)
    job = job_for(make_adult())
    [image] = _store_images(job, [render()])
    with default_storage.open(image.storage_key, "rb") as handle:
        report = inspect_image(handle.read())
    assert image.has_c2pa is True
    assert report.c2pa is not None
    assert report.c2pa["validation_state"] in {"Valid", "Trusted"}
