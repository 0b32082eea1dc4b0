"""The generation API's shapes, kept lean without changing what they accept or answer:
the output's direct representation equals what its fields give one by one (DRF's
generic ``Serializer.to_representation``) for jobs in every state the API shows, and the
input validates as it does with DRF's deep-copied fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from accountability.statements import statement_create
from generation.models import GenerationJob, HoldStage, JobStatus
from generation.serializers import GenerationCreateSerializer, GenerationOutputSerializer
from moderation.models import ModerationDecision
from moderation.policy import policy_current
from tests.generation.conftest import delivered_image

pytestmark = pytest.mark.django_db


def field_by_field(job: GenerationJob, context: dict[str, Any]) -> dict[str, Any]:
    serializer = GenerationOutputSerializer(job, context=context)
    return dict(serializers.Serializer.to_representation(serializer, job))


def jobs_in_every_state(user: Any) -> list[GenerationJob]:
    now = timezone.now()
    common: dict[str, Any] = {
        "user": user, "prompt": "a lighthouse", "model_id": "tiny-test", "width": 256,
        "height": 256, "steps": 4, "guidance_scale": 7.5, "seed": 7, "credits_reserved": 1,
    }  # fmt: skip
    statement = statement_create(
        user=user,
        subject_type="generation.job",
        subject_id="x",
        category="sexual",
        decision="content_blocked",
        decision_ground="incompatible_content",
        facts="held under a regional threshold",
        automated_detection=True,
        automated_decision=True,
    )
    held = GenerationJob.objects.create(
        **common, status=JobStatus.HELD_FOR_REVIEW, hold_stage=HoldStage.PROMPT,
        moderation_category="sexual", statement_id=statement.pk,
    )  # fmt: skip
    ModerationDecision.objects.create(
        user=user, stage="prompt", decision="review", category="sexual", statement=statement,
        scores={"regional": {"jurisdiction": "DE", "category": "sexual"}},
        policy_version=policy_current(),
    )  # fmt: skip
    return [
        GenerationJob.objects.create(
            **common, status=JobStatus.QUEUED, awaiting_check=True, queued_at=now
        ),
        GenerationJob.objects.create(**common, status=JobStatus.QUEUED, queued_at=now),
        GenerationJob.objects.create(
            **common, status=JobStatus.RUNNING, started_at=now, progress_step=2, progress_total=4
        ),
        GenerationJob.objects.create(
            **common,
            status=JobStatus.FAILED,
            error="out of memory",
            started_at=now,
            finished_at=now + dt.timedelta(seconds=3, microseconds=1234),
        ),
        GenerationJob.objects.create(
            **common,
            status=JobStatus.BLOCKED,
            moderation_category="violence",
            finished_at=now,
            credits_charged=0,
        ),
        held,
        delivered_image(user).job,
    ]


@pytest.mark.parametrize("context", [{}, {"queue_position": False}, {"queue_position": 3}])
def test_the_output_is_what_the_fields_give_one_by_one(subscriber, context) -> None:
    jobs = jobs_in_every_state(subscriber)
    for job in jobs:
        job = GenerationJob.objects.get(pk=job.pk)
        direct = GenerationOutputSerializer(job, context=context).data
        assert direct == field_by_field(job, context), job.status
        assert list(direct) == list(GenerationOutputSerializer(job).fields)
    answers = {
        answer["id"]: answer
        for answer in GenerationOutputSerializer(
            GenerationJob.objects.filter(user=subscriber), many=True
        ).data
    }
    assert [answers[str(j.pk)]["status"] for j in jobs] == [j.status for j in jobs]
    delivered, held = answers[str(jobs[-1].pk)], answers[str(jobs[-2].pk)]
    assert delivered["images"][0]["url"].startswith("/api/v1/")
    assert held["moderation"]["regional_rule"]["jurisdiction"] == "DE"


def test_a_fresh_submit_answers_what_the_fields_give(api) -> None:
    response = api.post(
        "/api/v1/generations",
        {"prompt": "a watercolour lighthouse at dawn", "width": 256, "height": 256, "steps": 4},
        format="json",
    )
    assert response.status_code == 202
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert response.json() == field_by_field(job, {"queue_position": False})


class DeepCopiedCreateSerializer(GenerationCreateSerializer):
    """The same fields, deep-copied for each instance as DRF's ``Serializer`` does."""

    def get_fields(self):
        return serializers.Serializer.get_fields(self)


@pytest.mark.parametrize(
    "data",
    [
        {"prompt": "a lighthouse at dawn"},
        {"prompt": "  a fox  ", "negative_prompt": "", "model": "", "width": 768, "height": 64,
         "steps": 30, "guidance_scale": 0, "seed": 2**31 - 1, "num_images": 16,
         "no_distribution": "on"},
        {"prompt": "  ", "width": 13, "height": "x", "steps": 0, "no_distribution": 1, "seed": -1},
        {"prompt": "a\x00b", "model": "m" * 65, "guidance_scale": 31, "num_images": 17},
        {},
    ],
)  # fmt: skip
def test_the_input_validates_as_with_deep_copied_fields(data) -> None:
    copied, deep = GenerationCreateSerializer(data=data), DeepCopiedCreateSerializer(data=data)
    assert copied.is_valid() == deep.is_valid()
    assert copied.errors == deep.errors
    if not deep.errors:
        assert copied.validated_data == deep.validated_data
    # Each instance binds its own copies; the declared fields stay unbound.
    assert all(f.parent is copied for f in copied.fields.values())
    assert all(getattr(f, "parent", None) is None for f in copied._declared_fields.values())
