"""Optional external layer: OpenAI's moderation endpoint (SPEC §3, layer 4).

Rules:
- Off unless ``OPENAI_API_KEY`` is set.
- One POST to ``{OPENAI_API_BASE}/v1/moderations`` with a timeout
  (``OPENAI_MODERATION_TIMEOUT`` seconds, default 2); never retried inline.
- OpenAI's categories map onto ours; each mapped score is compared with the
  policy's ``external`` thresholds (allow below, block at or above, review between).
- Any failure (timeout, connection error, non-2xx answer, malformed body) yields
  the declared fail policy ``OPENAI_FAIL_POLICY``: ``review`` (default), ``allow``
  or ``block``, with the error recorded in the scores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

from core.categories import DECISION_RANK

logger = logging.getLogger(__name__)

FAIL_POLICIES = ("review", "allow", "block")
# OpenAI category -> ours. Harassment is not one of our categories; its threatening
# form is treated as a threat of violence.
CATEGORY_MAP: dict[str, str] = {
    "sexual": "sexual",
    "sexual/minors": "sexual_minors",
    "hate": "hate",
    "hate/threatening": "hate",
    "harassment/threatening": "violence_graphic",
    "violence": "violence_graphic",
    "violence/graphic": "violence_graphic",
    "self-harm": "self_harm",
    "self-harm/intent": "self_harm",
    "self-harm/instructions": "self_harm",
    "illicit": "illegal",
    "illicit/violent": "illegal",
}
SEVERITY_ORDER = (
    "sexual_minors",
    "nonconsensual",
    "hate",
    "self_harm",
    "sexual",
    "violence_graphic",
    "illegal",
)


@dataclass(frozen=True)
class ExternalVerdict:
    decision: str  # allow | review | block
    category: str  # "" when nothing fired (or on failure)
    status: str  # "ok" | "failed" | "disabled"
    scores: dict[str, float] = field(default_factory=dict)
    error: str = ""
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "category": self.category,
            "status": self.status,
            "scores": dict(self.scores),
            "error": self.error,
            "elapsed_ms": self.elapsed_ms,
        }


def is_enabled() -> bool:
    return bool(getattr(settings, "OPENAI_API_KEY", ""))


def fail_policy() -> str:
    policy = str(getattr(settings, "OPENAI_FAIL_POLICY", "review")).lower()
    return policy if policy in FAIL_POLICIES else "review"


def map_scores(category_scores: Mapping[str, Any]) -> dict[str, float]:
    """OpenAI's per-category scores as ours (the highest score per category)."""
    mapped: dict[str, float] = {}
    for theirs, score in category_scores.items():
        ours = CATEGORY_MAP.get(theirs)
        if ours is None or not isinstance(score, int | float):
            continue
        mapped[ours] = max(mapped.get(ours, 0.0), round(float(score), 6))
    return mapped


def decide(
    scores: Mapping[str, float], thresholds: Mapping[str, Mapping[str, float]]
) -> tuple[str, str]:
    """The strictest (decision, category) over the mapped scores."""
    best = ("allow", "")
    for category in SEVERITY_ORDER:
        score = scores.get(category)
        limits = thresholds.get(category)
        if score is None or limits is None or score < limits["allow"]:
            continue
        decision = "block" if score >= limits["block"] else "review"
        if DECISION_RANK[decision] > DECISION_RANK[best[0]]:
            best = (decision, category)
    return best


def openai_moderate(text: str, *, thresholds: Mapping[str, Mapping[str, float]]) -> ExternalVerdict:
    """Ask the external API about one prompt (see module rules)."""
    if not is_enabled():
        return ExternalVerdict("allow", "", "disabled")
    base = str(getattr(settings, "OPENAI_API_BASE", "https://api.openai.com")).rstrip("/")
    timeout = float(getattr(settings, "OPENAI_MODERATION_TIMEOUT", 2.0))
    model = str(getattr(settings, "OPENAI_MODERATION_MODEL", "omni-moderation-latest"))
    started = time.perf_counter()
    try:
        response = requests.post(
            f"{base}/v1/moderations",
            json={"model": model, "input": text},
            headers={"Authorization": f"Bearer {settings.OPENAI_API_KEY}"},
            timeout=timeout,
        )
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if response.status_code >= 300:
            return _failed(f"HTTP {response.status_code}", elapsed)
        body = response.json()
        result = body["results"][0]
        category_scores = result["category_scores"]
        if not isinstance(category_scores, Mapping):
            raise TypeError("category_scores is not an object")
    except requests.Timeout:
        return _failed("timeout", _since(started))
    except (ValueError, KeyError, IndexError, TypeError) as exc:  # JSON errors included
        return _failed(f"malformed answer: {type(exc).__name__}", _since(started))
    except requests.RequestException as exc:
        return _failed(f"request failed: {type(exc).__name__}", _since(started))
    scores = map_scores(category_scores)
    decision, category = decide(scores, thresholds)
    return ExternalVerdict(decision, category, "ok", scores, elapsed_ms=elapsed)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _failed(error: str, elapsed_ms: float) -> ExternalVerdict:
    logger.warning("OpenAI moderation failed (%s); fail policy %s", error, fail_policy())
    return ExternalVerdict(fail_policy(), "", "failed", error=error, elapsed_ms=elapsed_ms)
