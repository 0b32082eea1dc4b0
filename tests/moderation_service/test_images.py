from __future__ import annotations

import io

import pytest
from PIL import Image

from accountability.models import CsamCase
from accounts.models import AccountState, User
from moderation.images import ImageScores, classify_image, combine_output_scores
from moderation.models import ModerationDecision, PolicyVersion, Strike
from moderation.policy import DEFAULT_IMAGES, default_policy_document
from moderation.services import output_moderate, prompt_moderate

EXPOSED = DEFAULT_IMAGES["exposed_classes"]


def _png(colour: tuple[int, int, int], size: int = 256) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _scores(nsfw: float = 0.0, exposed: float = 0.0) -> ImageScores:
    return ImageScores(nsfw=nsfw, exposed=exposed)


POLICY = default_policy_document()


# --- the real models --------------------------------------------------------------------


@pytest.mark.slow
def test_real_classifiers_load_and_score_a_flat_image() -> None:
    scores = classify_image(_png((90, 110, 140)), exposed_classes=EXPOSED)
    assert scores.error == ""
    # Benign: below the review band, even with a minor indicator in the prompt.
    assert 0.0 <= scores.nsfw < POLICY["images"]["minor_escalation"]["nsfw"]["allow"]
    assert scores.exposed == 0.0
    assert scores.detections == []
    assert combine_output_scores([scores], set(), POLICY).decision == "allow"
    assert combine_output_scores([scores], {"minors"}, POLICY).decision == "allow"


@pytest.mark.slow
def test_real_classifiers_score_noise_and_a_gradient() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    noise = Image.fromarray((rng.random((128, 192, 3)) * 255).astype("uint8"))
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG")
    scores = classify_image(buffer.getvalue(), exposed_classes=EXPOSED)
    assert scores.error == ""
    assert 0.0 <= scores.nsfw <= 1.0
    assert isinstance(scores.detections, list)


def test_an_undecodable_image_is_held_not_passed() -> None:
    scores = classify_image(b"not an image", exposed_classes=EXPOSED)
    assert scores.error.startswith("undecodable")
    assert combine_output_scores([scores], set(), POLICY).decision == "review"


# --- combine_output_scores (pure) --------------------------------------------------------


@pytest.mark.parametrize(
    ("nsfw", "exposed", "expected"),
    [
        (0.1, 0.0, ("allow", "")),
        (0.6, 0.0, ("review", "sexual")),
        (0.9, 0.0, ("block", "sexual")),
        (0.1, 0.5, ("review", "sexual")),
        (0.1, 0.8, ("block", "sexual")),
    ],
)
def test_nsfw_and_exposure_thresholds(nsfw: float, exposed: float, expected: tuple) -> None:
    verdict = combine_output_scores([_scores(nsfw, exposed)], set(), POLICY)
    assert (verdict.decision, verdict.category) == expected


@pytest.mark.parametrize(
    ("nsfw", "exposed", "expected"),
    [
        (0.3, 0.0, ("allow", "")),
        (0.45, 0.0, ("review", "sexual_minors")),
        (0.85, 0.0, ("block", "sexual_minors")),
        (0.1, 0.65, ("block", "sexual_minors")),
    ],
)
def test_an_nsfw_image_from_a_prompt_with_a_minor_indicator_is_sexual_minors(
    nsfw: float, exposed: float, expected: tuple
) -> None:
    verdict = combine_output_scores([_scores(nsfw, exposed)], {"minors"}, POLICY)
    assert (verdict.decision, verdict.category) == expected


def test_the_same_image_without_a_minor_indicator_is_judged_as_adult_content() -> None:
    assert combine_output_scores([_scores(nsfw=0.45)], set(), POLICY).decision == "allow"
    verdict = combine_output_scores([_scores(nsfw=0.85)], set(), POLICY)
    assert (verdict.decision, verdict.category) == ("block", "sexual")


def test_minor_escalation_holds_even_where_adult_content_is_allowed() -> None:
    verdict = combine_output_scores(
        [_scores(nsfw=0.95)], {"minors"}, POLICY, adult_content_allowed=True
    )
    assert (verdict.decision, verdict.category) == ("block", "sexual_minors")


def test_adult_content_allowed_passes_nsfw_but_holds_real_people() -> None:
    assert (
        combine_output_scores([_scores(0.95)], set(), POLICY, adult_content_allowed=True).decision
        == "allow"
    )
    verdict = combine_output_scores(
        [_scores(0.95)], {"proper_name"}, POLICY, adult_content_allowed=True
    )
    assert (verdict.decision, verdict.category) == ("review", "nonconsensual")


def test_the_strictest_image_decides() -> None:
    verdict = combine_output_scores([_scores(0.1), _scores(0.95), _scores(0.6)], set(), POLICY)
    assert (verdict.decision, verdict.category, verdict.image_index) == ("block", "sexual", 1)
    assert len(verdict.scores["images"]) == 3


# --- output_moderate ---------------------------------------------------------------------


def _job(user: User, prompt: str, decision: ModerationDecision | None = None):
    from generation.models import GenerationJob

    return GenerationJob.objects.create(
        user=user,
        prompt=prompt,
        model_id="tiny-sd",
        width=256,
        height=256,
        steps=4,
        guidance_scale=7.0,
        seed=1,
        moderation_decision_id=decision.pk if decision else None,
    )


@pytest.mark.django_db
@pytest.mark.slow
def test_output_moderate_allows_a_flat_image_and_records_it(
    policy: PolicyVersion, member: User, jurisdiction
) -> None:
    prompt_decision = prompt_moderate(
        user=member, prompt="a blue square", negative_prompt="", jurisdiction=jurisdiction
    )
    job = _job(member, "a blue square", prompt_decision)
    decision = output_moderate(job=job, images=[_png((40, 60, 200))])
    assert (decision.stage, decision.decision, decision.layer) == ("output", "allow", "image")
    assert (decision.subject_type, decision.subject_id) == ("generation.job", str(job.pk))
    assert decision.follows == prompt_decision
    assert decision.policy_version == policy
    assert len(decision.scores["image_sha256"]) == 1
    assert "nsfw" in decision.scores["images"][0]


@pytest.mark.django_db
def test_output_moderate_escalates_nsfw_output_of_a_minor_prompt(
    policy: PolicyVersion, member: User, monkeypatch
) -> None:
    monkeypatch.setattr(
        "moderation.services.classify_image", lambda data, exposed_classes: _scores(nsfw=0.9)
    )
    job = _job(member, "portrait of a schoolgirl at the beach")
    decision = output_moderate(job=job, images=[_png((10, 10, 10))])
    assert (decision.decision, decision.category) == ("block", "sexual_minors")
    member.refresh_from_db()
    assert member.account_state == AccountState.SUSPENDED
    case = CsamCase.objects.get(user=member)
    assert case.evidence["image_sha256"] == decision.scores["image_sha256"]
    assert Strike.objects.get(user=member).category == "sexual_minors"
    assert decision.statement is not None
