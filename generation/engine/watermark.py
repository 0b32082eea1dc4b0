"""Invisible watermark carrying a 64-bit payload that identifies the image.

Payload (64 bits, big-endian)::

    bytes 0..5  the first 6 bytes (48 bits) of the image's UUID ("image key")
    bytes 6..7  CRC-16/CCITT-FALSE over b"IG1" + those 6 bytes

Rules:
- Image ids must be random (version 4) UUIDs: their first 48 bits are random, so the
  key finds the image with a UUID range query (``image_id_range``) and collisions
  stay negligible (about 0.2 expected colliding pairs among 10 million images).
  Time-ordered UUIDs (v1, v6, v7) share leading bits and are refused.
- A read counts only when the checksum matches: random noise or an unmarked image
  passes with probability 1/65536, and must then also match an image in the database.
- Method ``dwtDctSvd`` on the U (chroma) channel at strength 64, not the library's
  default 36: at 36 the mark does not survive JPEG q=90 on high-frequency content
  (bit accuracy ~0.78 on noise), at 64 it survives JPEG q=90 and q=75 (>= 0.97),
  costing about 2-4 dB PSNR (chroma only) on natural images.
- The image must have at least 256*256 pixels (``invisible-watermark``'s limit);
  smaller images raise ``ImageTooSmallForWatermark`` on embedding and read as None.
  They are not upscaled: the caller keeps them unmarked and relies on metadata.
- Decoding reads at most ``MAX_DECODE_PIXELS`` pixels: a full-width top band whose
  height is a multiple of 8, which keeps block alignment, so large images cost about
  as much as a 512x512 one (~0.1 s). Resizing, cropping from the top or left, and rotation
  destroy the mark (a known limit of this method).
"""

from __future__ import annotations

import binascii
import functools
import importlib.util
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image

WATERMARK_METHOD = "dwtDctSvd"
WATERMARK_SCALES = (0, 64, 0)
"""Embedding strength per YUV channel (Y, U, V); see the module rules."""
PAYLOAD_BITS = 64
KEY_BYTES = 6
MIN_WATERMARK_PIXELS = 256 * 256
MAX_DECODE_PIXELS = 512 * 512
_CRC_DOMAIN = b"IG1"


class ImageTooSmallForWatermark(ValueError):
    """The image has fewer than 256*256 pixels; it cannot carry the watermark."""


@dataclass(frozen=True)
class WatermarkPayload:
    """A checksum-valid payload read from an image."""

    key: bytes
    """The first 6 bytes of the image's UUID."""

    @property
    def key_hex(self) -> str:
        return self.key.hex()

    def matches(self, image_id: uuid.UUID | str) -> bool:
        return _as_uuid(image_id).bytes[:KEY_BYTES] == self.key

    def image_id_range(self) -> tuple[uuid.UUID, uuid.UUID]:
        """Lowest and highest UUID with this key, for ``id__gte``/``id__lte`` lookups."""
        low = self.key + b"\x00" * (16 - KEY_BYTES)
        high = self.key + b"\xff" * (16 - KEY_BYTES)
        return uuid.UUID(bytes=low), uuid.UUID(bytes=high)


def _as_uuid(image_id: uuid.UUID | str) -> uuid.UUID:
    return image_id if isinstance(image_id, uuid.UUID) else uuid.UUID(str(image_id))


def _crc16(data: bytes) -> int:
    return binascii.crc_hqx(_CRC_DOMAIN + data, 0xFFFF)


def encode_payload(image_id: uuid.UUID | str) -> bytes:
    """The 8 payload bytes for ``image_id`` (a version 4 UUID; others raise ValueError)."""
    uid = _as_uuid(image_id)
    if uid.version != 4:
        raise ValueError("image ids must be random (version 4) UUIDs to be watermarked")
    key = uid.bytes[:KEY_BYTES]
    return key + _crc16(key).to_bytes(2, "big")


def decode_payload(payload: bytes) -> WatermarkPayload | None:
    """The payload when its checksum is right, else None."""
    if len(payload) != PAYLOAD_BITS // 8:
        return None
    key, checksum = payload[:KEY_BYTES], payload[KEY_BYTES:]
    if _crc16(key).to_bytes(2, "big") != checksum:
        return None
    return WatermarkPayload(key=key)


def can_carry_watermark(img: Image) -> bool:
    return img.width * img.height >= MIN_WATERMARK_PIXELS


def _to_bgr(img: Image) -> np.ndarray:
    rgb = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def embed_watermark(img: Image, image_id: uuid.UUID | str) -> Image:
    """A copy of ``img`` (RGB) carrying the payload of ``image_id``.

    Raises ``ImageTooSmallForWatermark`` below 256*256 pixels. Alpha is dropped.
    """
    from imwatermark import WatermarkEncoder
    from PIL import Image as PILImage

    if not can_carry_watermark(img):
        raise ImageTooSmallForWatermark(
            f"{img.width}x{img.height} is below {MIN_WATERMARK_PIXELS} pixels"
        )
    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", encode_payload(image_id))
    marked = encoder.encode(_to_bgr(img), WATERMARK_METHOD, scales=list(WATERMARK_SCALES))
    return PILImage.fromarray(np.ascontiguousarray(marked[:, :, ::-1]), mode="RGB")


@functools.cache
def _dwt_dct_svd() -> type:
    """``invisible-watermark``'s DWT-DCT-SVD codec, loaded from its own file.

    Importing ``imwatermark`` (or any of its modules, since the package's
    ``__init__`` runs first) imports its RivaGAN module, which imports torch: 300 MB
    and libtorch mapped into a web process that only wanted to read a mark. The
    DWT-DCT-SVD module itself needs only numpy, OpenCV and PyWavelets, so it is
    loaded here by path under a private name, without the package.
    """
    spec = importlib.util.find_spec("imwatermark")  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("invisible-watermark is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "dwtDctSvd.py"
    module_spec = importlib.util.spec_from_file_location("_imagegate_dwtdctsvd", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    codec: type = module.EmbedDwtDctSvd
    return codec


def read_watermark(img: Image) -> WatermarkPayload | None:
    """The checksum-valid payload in ``img``, or None (unmarked, damaged or too small).

    Decodes with the DWT-DCT-SVD codec alone (``_dwt_dct_svd``): never imports torch.
    """
    if not can_carry_watermark(img):
        return None
    bgr = _to_bgr(img)
    height, width = bgr.shape[:2]
    if height * width > MAX_DECODE_PIXELS:
        band = max(8, (MAX_DECODE_PIXELS // width) // 8 * 8)
        bgr = bgr[:band]
        if bgr.shape[0] * bgr.shape[1] < MIN_WATERMARK_PIXELS:
            return None
    codec = _dwt_dct_svd()(watermarks=[], wmLen=PAYLOAD_BITS, scales=list(WATERMARK_SCALES))
    bits = np.asarray(codec.decode(bgr), dtype=np.uint8)
    return decode_payload(np.packbits(bits)[: PAYLOAD_BITS // 8].tobytes())
