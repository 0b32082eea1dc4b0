"""Input and output shapes of the generation API (SPEC §9)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from core.api import ScalarInputSerializer
from core.schema import TEXT_PATTERN
from generation.models import GeneratedImage, GenerationJob
from generation.selectors import queue_position

# The moderation engine's limit (a pure module, cheap to import): longer prompts are
# refused with 400, never truncated.
from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.models import ModerationDecision

# What a queued job waiting for the deep check (moderation queue) says it is doing.
CHECKING_NOTE = "Checking the prompt against the content policy before it is queued."


class StrictBooleanField(serializers.BooleanField):
    """true/false only (and the form words for them): not 0, 1 or "yes" as DRF allows,
    so that the API accepts exactly what its schema documents."""

    FORM_VALUES = {"true": True, "false": False, "on": True, "off": False}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in self.FORM_VALUES:
            return self.FORM_VALUES[data.lower()]
        self.fail("invalid", input=data)
        raise AssertionError  # fail() raises


class StrictFloatField(serializers.FloatField):
    """A number, not true or false: DRF's FloatField reads ``false`` as 0.0 (a bool is
    an int in Python), which the schema's "number" does not allow."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class GenerationCreateSerializer(ScalarInputSerializer):
    # Must contain a non-space character and no NUL: the schema says so too (pattern).
    prompt = serializers.RegexField(TEXT_PATTERN, max_length=MAX_PROMPT_CHARS, trim_whitespace=True)
    negative_prompt = serializers.CharField(
        max_length=MAX_PROMPT_CHARS, required=False, allow_blank=True, default=""
    )
    # Empty, like null, means the plan's default model (the schema allows both).
    model = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True, default=None
    )
    width = serializers.IntegerField(min_value=64, max_value=4096, default=512)
    height = serializers.IntegerField(min_value=64, max_value=4096, default=512)
    steps = serializers.IntegerField(min_value=1, max_value=500, default=25)
    guidance_scale = StrictFloatField(min_value=0.0, max_value=30.0, default=7.5)
    seed = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    num_images = serializers.IntegerField(min_value=1, max_value=16, default=1)
    no_distribution = StrictBooleanField(default=False)

    def validate_model(self, value: str | None) -> str | None:
        return value or None


class ImageOutputSerializer(serializers.ModelSerializer[GeneratedImage]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedImage
        fields = ["id", "width", "height", "sha256", "url"]

    def get_url(self, image: GeneratedImage) -> str:
        return reverse("api-image-file", kwargs={"image_id": image.pk})


class GenerationOutputSerializer(serializers.ModelSerializer[GenerationJob]):
    params = serializers.SerializerMethodField()
    model = serializers.CharField(source="model_id")
    progress = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    moderation = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField()

    class Meta:
        model = GenerationJob
        fields = [
            "id", "status", "created_at", "started_at", "finished_at", "prompt", "params",
            "model", "credits_charged", "progress", "queue_position", "images", "moderation",
            "error",
        ]  # fmt: skip

    def to_representation(self, job: GenerationJob) -> dict[str, Any]:
        """What the fields above give, field by field (``test_serializers`` holds the two
        equal for jobs in every state), without building and binding fourteen field
        objects for every answer: that cost about as much CPU as the rest of the submit's
        answer (docs/benchmarks.md). The fields still describe the output (the schema)."""
        return {
            "id": str(job.id),
            "status": _text(job.status),
            "created_at": _datetime(job.created_at),
            "started_at": _datetime(job.started_at),
            "finished_at": _datetime(job.finished_at),
            "prompt": _text(job.prompt),
            "params": self.get_params(job),
            "model": _text(job.model_id),
            "credits_charged": None if job.credits_charged is None else int(job.credits_charged),
            "progress": self.get_progress(job),
            "queue_position": self.get_queue_position(job),
            "images": self.get_images(job),
            "moderation": self.get_moderation(job),
            "error": self.get_error(job),
        }

    def get_params(self, job: GenerationJob) -> dict[str, Any]:
        return {
            "negative_prompt": job.negative_prompt,
            "width": job.width,
            "height": job.height,
            "steps": job.steps,
            "guidance_scale": job.guidance_scale,
            "seed": job.seed,
            "num_images": job.num_images,
            "no_distribution": job.no_distribution,
        }

    def get_progress(self, job: GenerationJob) -> dict[str, int]:
        return {"step": job.progress_step, "total": job.progress_total or job.steps}

    def get_queue_position(self, job: GenerationJob) -> int | None:
        """Given by the caller (``context["queue_position"]``, a status read) or read here;
        ``False`` in the context skips it (the submit answer: not computed on that path)."""
        if "queue_position" in self.context:
            given = self.context["queue_position"]
            return None if given is False else given
        return queue_position(job=job)

    def get_images(self, job: GenerationJob) -> list[dict[str, Any]]:
        # Images are never shown to their owner before the job succeeded (SPEC §2).
        if job.status != "succeeded":
            return []
        images = [image for image in job.images.all() if image.purged_at is None]
        return ImageOutputSerializer(images, many=True).data  # type: ignore[return-value]

    def get_moderation(self, job: GenerationJob) -> dict[str, Any] | None:
        if job.status == "queued" and job.awaiting_check:
            # The deep check (text classifiers, external API) runs before the GPU.
            return {
                "decision": "checking",
                "category": None,
                "statement_id": None,
                "note": CHECKING_NOTE,
            }
        if not (job.moderation_category or job.statement_id or job.status == "held_for_review"):
            return None
        decision = {
            "blocked": "block",
            "held_for_review": "review",
        }.get(job.status, "allow")
        answer: dict[str, Any] = {
            "decision": decision,
            "category": job.moderation_category or None,
            "statement_id": str(job.statement_id) if job.statement_id else None,
        }
        if decision == "review" and job.statement_id:
            answer["regional_rule"] = _regional_rule(job.statement_id)
        return answer

    def get_error(self, job: GenerationJob) -> str | None:
        return job.error if job.status == "failed" and job.error else None


# Unbound, for its representation only (the project's DATETIME_FORMAT and time zone).
_DATETIME_FIELD = serializers.DateTimeField()


def _datetime(value: Any) -> str | None:
    return None if value is None else _DATETIME_FIELD.to_representation(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _regional_rule(statement_id: Any) -> dict[str, Any] | None:
    """The regional rule that held a job (one query, only for jobs held with a statement):
    the scores of the decision that gave the statement (the request's or the deep check's)."""
    scores = (
        ModerationDecision.objects.filter(statement_id=statement_id)
        .values_list("scores", flat=True)
        .first()
    )
    regional = (scores or {}).get("regional")
    if not regional:
        return None
    return {
        "jurisdiction": regional.get("jurisdiction") or None,
        "category": regional.get("category"),
        "note": "Held for review under a stricter regional threshold; no strike.",
    }
