"""Provenance of delivered images (SPEC §6): watermark, metadata, C2PA; and inspection.

``apply_provenance`` turns a generated image into the delivered PNG bytes:
1. invisible watermark carrying the image id (``watermark``), skipped only for
   images under 256*256 pixels, which the metadata then marks as unwatermarked;
2. PNG text chunks and XMP marking it AI-generated (``metadata``);
3. a signed C2PA manifest when a certificate and key are given (``c2pa_manifest``).

``inspect_image`` is what the verify endpoint runs on untrusted uploads. Rules:
- Input is bounded before decoding: at most ``MAX_INSPECT_BYTES`` bytes, only PNG,
  JPEG or WebP, at most ``MAX_INSPECT_PIXELS`` pixels (checked from the header, before
  any pixel is decoded; also below Pillow's decompression-bomb limit). Anything else
  raises ``InvalidImage`` (a ValueError), never another exception type.
- The watermark is the evidence to look the image up by; metadata is only a claim;
  C2PA is reported with its validation state.

This module must not import torch or diffusers: the web process uses it.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generation.engine.c2pa_manifest import C2paSigningError, read_c2pa, sign_c2pa
from generation.engine.metadata import (
    TRAINED_ALGORITHMIC_MEDIA,
    metadata_from_image,
    png_with_metadata,
    read_metadata,
)
from generation.engine.watermark import (
    ImageTooSmallForWatermark,
    WatermarkPayload,
    can_carry_watermark,
    embed_watermark,
    read_watermark,
)

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "MAX_INSPECT_BYTES",
    "MAX_INSPECT_PIXELS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "C2paSigningError",
    "ImageTooSmallForWatermark",
    "InvalidImage",
    "ProvenanceReport",
    "WatermarkPayload",
    "apply_provenance",
    "embed_watermark",
    "inspect_image",
    "png_with_metadata",
    "read_c2pa",
    "read_metadata",
    "read_watermark",
    "sign_c2pa",
]

MAX_INSPECT_BYTES = 25 * 1024 * 1024
MAX_INSPECT_PIXELS = 40_000_000
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
_MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class InvalidImage(ValueError):
    """The bytes are not an image we inspect (empty, too big, unknown, corrupt)."""


@dataclass(frozen=True)
class ProvenanceReport:
    """What an uploaded image carries. Ids here are claims until looked up."""

    format: str
    width: int
    height: int
    watermark_payload: WatermarkPayload | None
    metadata: dict[str, Any]
    c2pa: dict[str, Any] | None

    @property
    def has_watermark(self) -> bool:
        return self.watermark_payload is not None


def apply_provenance(
    img: Image,
    *,
    image_id: uuid.UUID | str,
    generation_id: uuid.UUID | str,
    model_id: str,
    no_distribution: bool,
    c2pa_cert: str | bytes | None = None,
    c2pa_key: str | bytes | None = None,
    generator: str = "Imagegate",
) -> bytes:
    """The delivered PNG bytes: watermark, then metadata, then (optional) C2PA.

    C2PA is applied only when both ``c2pa_cert`` and ``c2pa_key`` are given; giving
    one without the other is a configuration error (ValueError). Images under
    256*256 pixels are delivered without a watermark (metadata says so).
    """
    if (c2pa_cert is None) != (c2pa_key is None):
        raise ValueError("C2PA signing needs both a certificate and a key")
    watermarked = can_carry_watermark(img)
    marked = embed_watermark(img, image_id) if watermarked else img.convert("RGB")
    png = png_with_metadata(
        marked,
        image_id=str(image_id),
        generation_id=str(generation_id),
        model_id=model_id,
        generator=generator,
        no_distribution=no_distribution,
        watermarked=watermarked,
    )
    if c2pa_cert is None or c2pa_key is None:
        return png
    return sign_c2pa(
        png,
        cert_pem=c2pa_cert,
        key_pem=c2pa_key,
        title=f"{image_id}.png",
        model_id=model_id,
        image_id=str(image_id),
        generation_id=str(generation_id),
        no_distribution=no_distribution,
        generator=generator,
    )


def inspect_image(
    data: bytes, *, trust_anchors_pem: str | None = None, max_pixels: int = MAX_INSPECT_PIXELS
) -> ProvenanceReport:
    """Read the watermark, metadata and C2PA manifest of untrusted image bytes.

    Raises ``InvalidImage`` for anything that is not a bounded PNG, JPEG or WebP.
    """
    from PIL import Image as PILImage

    if not data:
        raise InvalidImage("empty file")
    if len(data) > MAX_INSPECT_BYTES:
        raise InvalidImage(f"file larger than {MAX_INSPECT_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            img = PILImage.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            with img:
                image_format = str(img.format)
                width, height = img.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    raise InvalidImage(f"{width}x{height} exceeds {max_pixels} pixels")
                img.load()
                metadata = metadata_from_image(img)
                rgb = img.convert("RGB")
    except InvalidImage:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise InvalidImage("image too large to decode") from exc
    except Exception as exc:  # Pillow raises many types on corrupt input.
        raise InvalidImage("not a readable PNG, JPEG or WebP image") from exc
    payload = read_watermark(rgb)
    try:
        c2pa = read_c2pa(
            data, mime_type=_MIME_TYPES[image_format], trust_anchors_pem=trust_anchors_pem
        )
    except Exception:  # A hostile manifest must not turn into a server error.
        c2pa = {"validation_state": "Invalid", "error": "unreadable manifest", "failures": []}
    return ProvenanceReport(
        format=image_format,
        width=width,
        height=height,
        watermark_payload=payload,
        metadata=metadata,
        c2pa=c2pa,
    )
