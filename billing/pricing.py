"""What a generation request costs (SPEC §4)."""

from __future__ import annotations

import math

BASE_PIXELS = 512 * 512
BASE_STEPS = 25


def generation_cost(*, width: int, height: int, steps: int, num_images: int) -> int:
    """``ceil(w·h/512² · steps/25)`` credits per image, at least 1 per image.

    Computed in integers so that no float rounding can over- or under-charge.
    """
    per_image = max(1, math.ceil((width * height * steps) / (BASE_PIXELS * BASE_STEPS)))
    return per_image * max(1, num_images)
