"""What moderation calls up in the generation app (core/upcalls.py).

The asynchronous prompt check (``moderation.check_prompt_async``) hands the job back
to the app that holds it: on to the GPU, held for review, or blocked. The generation
app provides the three handlers in its ``AppConfig.ready()``.
"""

from __future__ import annotations

from typing import Protocol

from core.upcalls import UpCall
from moderation.models import ModerationDecision


class JobAllowed(Protocol):
    def __call__(self, *, job_id: str) -> object: ...


class JobDecided(Protocol):
    def __call__(self, *, job_id: str, decision: ModerationDecision) -> object: ...


# The check passed: a still-queued job goes to the GPU (generation_enqueue_gpu).
prompt_check_allowed: UpCall[JobAllowed] = UpCall(
    "moderation.prompt_check_allowed", provided_by="generation"
)
# The check was unsure (or failed under the review policy): the job is held.
prompt_check_unsure: UpCall[JobDecided] = UpCall(
    "moderation.prompt_check_unsure", provided_by="generation"
)
# The check blocked: the job is blocked (strike and statement already recorded).
prompt_check_blocked: UpCall[JobDecided] = UpCall(
    "moderation.prompt_check_blocked", provided_by="generation"
)
