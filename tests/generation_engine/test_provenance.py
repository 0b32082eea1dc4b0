from __future__ import annotations

import io
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.engine.backend import ModelSpec, PipelineCache
from generation.engine.metadata import DMI_PROHIBITED, TRAINED_ALGORITHMIC_MEDIA
from generation.engine.provenance import (
    InvalidImage,
    apply_provenance,
    embed_watermark,
    inspect_image,
    png_with_metadata,
    read_c2pa,
    read_metadata,
    read_watermark,
    sign_c2pa,
)
from generation.engine.watermark import (
    ImageTooSmallForWatermark,
    decode_payload,
    encode_payload,
)
from tests.generation_engine.conftest import SigningMaterial

IMAGE_ID = uuid.UUID("3f2b8c1e-9d4a-4b6f-8e2a-1c5d7e9f0a1b")
GENERATION_ID = uuid.UUID("0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0")
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(pipeline_cache: PipelineCache, tiny_spec: ModelSpec) -> Image.Image:
    """A 256x256 image from the tiny TEST model (noise: the hardest case for the mark)."""
    [img] = pipeline_cache.generate(
        tiny_spec, "a red bicycle", width=256, height=256, steps=4, seed=42
    )
    return img


def encode(img: Image.Image, fmt: str, **options: int) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_payload_round_trips_and_rejects_a_wrong_checksum() -> None:
    payload = encode_payload(IMAGE_ID)
    assert len(payload) == 8
    decoded = decode_payload(payload)
    assert decoded is not None
    assert decoded.matches(IMAGE_ID)
    low, high = decoded.image_id_range()
    assert low <= IMAGE_ID <= high
    assert decode_payload(payload[:7] + bytes([payload[7] ^ 1])) is None
    assert decode_payload(b"\x00" * 8) is None
    assert decode_payload(b"\xff" * 8) is None


def test_time_ordered_uuids_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_payload(uuid.uuid1())


def test_watermark_survives_png_round_trip(generated: Image.Image) -> None:
    marked = embed_watermark(generated, IMAGE_ID)
    payload = read_watermark(decode(encode(marked, "PNG")))
    assert payload is not None
    assert payload.matches(IMAGE_ID)


def test_watermark_survives_jpeg_quality_90(generated: Image.Image) -> None:
    marked = embed_watermark(generated, IMAGE_ID)
    payload = read_watermark(decode(encode(marked, "JPEG", quality=90)))
    assert payload is not None
    assert payload.matches(IMAGE_ID)


def test_watermark_is_read_from_a_large_image_band() -> None:
    rng = np.random.default_rng(3)
    big = Image.fromarray(rng.integers(0, 256, (1600, 1200, 3), dtype=np.uint8))
    image_id = uuid.uuid4()
    payload = read_watermark(decode(encode(embed_watermark(big, image_id), "PNG")))
    assert payload is not None
    assert payload.matches(image_id)


def test_unmarked_noise_reads_no_payload() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        noise = Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))
        assert read_watermark(noise) is None


def test_unmarked_generated_image_reads_no_payload(generated: Image.Image) -> None:
    assert read_watermark(generated) is None


def test_small_images_are_not_watermarked_and_say_so() -> None:
    small = Image.new("RGB", (128, 128), (40, 80, 120))
    with pytest.raises(ImageTooSmallForWatermark):
        embed_watermark(small, IMAGE_ID)
    assert read_watermark(small) is None
    data = apply_provenance(
        small,
        image_id=IMAGE_ID,
        generation_id=GENERATION_ID,
        model_id="tiny",
        no_distribution=False,
    )
    metadata = read_metadata(data)
    assert metadata["watermarked"] is False
    assert metadata["is_ai_generated"]


def test_metadata_marks_ai_generation_without_no_distribution_flag(
    generated: Image.Image,
) -> None:
    data = png_with_metadata(
        generated,
        image_id=str(IMAGE_ID),
        generation_id=str(GENERATION_ID),
        model_id="tiny",
        no_distribution=False,
    )
    raw = data.decode("latin-1")
    assert TRAINED_ALGORITHMIC_MEDIA in raw
    assert "XML:com.adobe.xmp" in raw
    metadata = read_metadata(data)
    assert metadata["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert metadata["has_xmp"]
    assert metadata["generator"] == "Imagegate"
    assert metadata["model_id"] == "tiny"
    assert metadata["image_id"] == str(IMAGE_ID)
    assert metadata["generation_id"] == str(GENERATION_ID)
    assert metadata["no_distribution"] is False
    assert metadata["data_mining"] is None
    assert "NoDistribution" not in raw
    assert "DMI-PROHIBITED" not in raw


def test_metadata_carries_no_distribution_flag_when_asked(generated: Image.Image) -> None:
    data = png_with_metadata(
        generated,
        image_id=str(IMAGE_ID),
        generation_id=str(GENERATION_ID),
        model_id="tiny",
        no_distribution=True,
    )
    metadata = read_metadata(data)
    assert metadata["no_distribution"] is True
    assert metadata["data_mining"] == DMI_PROHIBITED
    assert metadata["usage_terms"]
    assert metadata["text"]["imagegate:no_distribution"] == "true"


def test_metadata_values_are_escaped(generated: Image.Image) -> None:
    data = png_with_metadata(
        generated,
        image_id=str(IMAGE_ID),
        generation_id=str(GENERATION_ID),
        model_id='evil" x="<&>',
        no_distribution=False,
    )
    assert read_metadata(data)["model_id"] == 'evil" x="<&>'


def test_c2pa_signed_png_reads_back_valid_with_intent(
    generated: Image.Image, c2pa_signing: SigningMaterial
) -> None:
    png = encode(generated, "PNG")
    signed = sign_c2pa(
        png,
        cert_pem=c2pa_signing.cert_chain_pem,
        key_pem=c2pa_signing.key_pem,
        title="image.png",
        model_id="tiny",
        image_id=str(IMAGE_ID),
        generation_id=str(GENERATION_ID),
    )
    manifest = read_c2pa(signed)
    assert manifest is not None
    assert manifest["validation_state"] == "Valid"
    assert manifest["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA} in (
        manifest["actions"]
    )
    assert manifest["generation"]["image_id"] == str(IMAGE_ID)
    assert manifest["generation"]["model"] == "tiny"
    assert manifest["signature"]["common_name"] == "Imagegate test signer"
    assert len(signed) - len(png) < 20_000  # no embedded thumbnail


def test_c2pa_is_trusted_with_the_root_as_anchor(
    generated: Image.Image, c2pa_signing: SigningMaterial
) -> None:
    signed = sign_c2pa(
        encode(generated, "PNG"),
        cert_pem=c2pa_signing.cert_chain_pem,
        key_pem=c2pa_signing.key_pem,
        title="image.png",
        model_id="tiny",
    )
    manifest = read_c2pa(signed, trust_anchors_pem=c2pa_signing.root_pem.decode())
    assert manifest is not None
    assert manifest["validation_state"] == "Trusted"


def test_c2pa_detects_edited_pixels(generated: Image.Image, c2pa_signing: SigningMaterial) -> None:
    signed = bytearray(
        sign_c2pa(
            encode(generated, "PNG"),
            cert_pem=c2pa_signing.cert_chain_pem,
            key_pem=c2pa_signing.key_pem,
            title="image.png",
            model_id="tiny",
        )
    )
    signed[signed.find(b"IDAT") + 40] ^= 0xFF
    manifest = read_c2pa(bytes(signed))
    assert manifest is not None
    assert manifest["validation_state"] == "Invalid"


def test_unsigned_png_has_no_c2pa(generated: Image.Image) -> None:
    assert read_c2pa(encode(generated, "PNG")) is None


def test_apply_provenance_then_inspect_finds_everything(
    generated: Image.Image, c2pa_signing: SigningMaterial
) -> None:
    data = apply_provenance(
        generated,
        image_id=IMAGE_ID,
        generation_id=GENERATION_ID,
        model_id="tiny",
        no_distribution=True,
        c2pa_cert=c2pa_signing.cert_chain_pem,
        c2pa_key=c2pa_signing.key_pem,
    )
    report = inspect_image(data)
    assert report.format == "PNG"
    assert report.watermark_payload is not None
    assert report.watermark_payload.matches(IMAGE_ID)
    assert report.metadata["no_distribution"] is True
    assert report.metadata["watermarked"] is True
    assert report.c2pa is not None
    assert report.c2pa["validation_state"] == "Valid"
    assert report.c2pa["training_mining"] is not None


def test_watermark_outlives_metadata_and_c2pa_stripping(generated: Image.Image) -> None:
    data = apply_provenance(
        generated,
        image_id=IMAGE_ID,
        generation_id=GENERATION_ID,
        model_id="tiny",
        no_distribution=False,
    )
    stripped = encode(decode(data), "JPEG", quality=90)
    report = inspect_image(stripped)
    assert report.format == "JPEG"
    assert report.metadata["image_id"] is None
    assert report.c2pa is None
    assert report.watermark_payload is not None
    assert report.watermark_payload.matches(IMAGE_ID)


def test_apply_provenance_needs_both_cert_and_key(generated: Image.Image) -> None:
    with pytest.raises(ValueError):
        apply_provenance(
            generated,
            image_id=IMAGE_ID,
            generation_id=GENERATION_ID,
            model_id="tiny",
            no_distribution=False,
            c2pa_cert=b"cert",
        )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with a tiny body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 64)
    idat_chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat
    idat_chunk += struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage bytes that are not an image",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
        b"GIF89a" + b"\x00" * 50,
        png_header_only(60_000, 60_000),
        png_header_only(8000, 8000),
        png_header_only(64, 64),
    ],
    ids=["empty", "garbage", "truncated-png", "gif", "bomb", "too-many-pixels", "corrupt-body"],
)
def test_inspect_rejects_invalid_images(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        inspect_image(data)


def test_provenance_module_does_not_import_torch() -> None:
    code = (
        "import sys, generation.engine.provenance as p; "
        "assert p.inspect_image; "
        "bad = {'torch', 'diffusers', 'transformers'} & set(sys.modules); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()
