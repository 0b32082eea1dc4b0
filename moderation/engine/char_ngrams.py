"""Hashed character n-gram features of a normalised prompt (numpy and zlib only).

Rules:
- The text is lower-cased and padded with one space each side; every substring of
  ``ORDERS`` characters (3 to 5) is hashed with CRC-32 into ``BUCKETS`` buckets.
- A bucket's value is ``1 + log(count)``; the vector is L2-normalised. Training
  (``training/``) and the runtime call this same function, so the trained weights fit.
- Characters of any script count, so a misspelt or spaced word, or a CJK phrase,
  still shares most of its n-grams with the spelling the head learnt.
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

ORDERS = (3, 4, 5)
BUCKETS = 1 << 16


def char_ngram_counts(text: str, buckets: int = BUCKETS) -> dict[int, int]:
    padded = f" {' '.join(text.lower().split())} "
    counts: dict[int, int] = {}
    for order in ORDERS:
        for start in range(len(padded) - order + 1):
            bucket = zlib.crc32(padded[start : start + order].encode("utf-8")) % buckets
            counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def char_ngram_sparse(
    text: str, buckets: int = BUCKETS
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """(bucket indices, L2-normalised values) of one text."""
    counts = char_ngram_counts(text, buckets)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
    values /= max(float(np.linalg.norm(values)), 1e-12)
    return index, values.astype(np.float32)
