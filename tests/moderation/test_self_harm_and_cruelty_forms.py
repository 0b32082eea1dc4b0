"""English forms the lists lacked (eighth pass, rules ``builtin-2026-12-06.6``): wrist
cutting and cutting into one's own body in pronoun forms, a jump to one's death, throat
slitting and executions, cruelty to animals by fire, and the slave trade. Rules only, so
the classifier cannot hide a gap in the lists; ordinary prompts with the same verbs stay
allowed. Every prompt here was written for this test."""

from __future__ import annotations

import pytest

from moderation.engine.pipeline import TextModerator

RULES_ONLY = TextModerator(classifier=None)

BLOCKED = [
    ("a teenager cutting her wrists in the bathroom", "self_harm"),
    ("he slits his wrists in a dark room, photo", "self_harm"),
]

HELD = [
    ("a man cutting his own arm with a knife", "self_harm"),
    ("close-up of a girl's forearm with self-inflicted cuts", "self_harm"),
    ("a woman carving into her own skin with a blade", "self_harm"),
    ("a man standing on the edge of a roof about to jump", "self_harm"),
    ("an office worker leaping to his death from a tower", "self_harm"),
    ("a soldier slitting his throat in the trench", "violence_graphic"),
    ("a rebel executing a prisoner by the roadside", "violence_graphic"),
    ("a cat set on fire by a gang of boys", "violence_graphic"),
    ("setting a dog on fire for fun", "violence_graphic"),
    ("a slave auction with people in chains", "hate"),
    ("slaves being whipped in a cotton field", "hate"),
]

ALLOWED = [
    "a chef cutting her own hair in the mirror",
    "a mother cutting her son's hair on the porch",
    "a surgeon cutting a ribbon at the new hospital",
    "a butcher cutting the throat of a lamb for the feast",
    "a skydiver about to jump from the plane",
    "a man jumping off a diving board into a lake",
    "a campfire set on fire at dusk with marshmallows",
    "a history textbook illustration of the abolition of the slave trade",
]


@pytest.mark.parametrize(("prompt", "category"), BLOCKED)
def test_wrist_cutting_blocks(prompt: str, category: str) -> None:
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category, verdict.layer) == ("block", category, "rules")


@pytest.mark.parametrize(("prompt", "category"), HELD)
def test_the_new_forms_are_held(prompt: str, category: str) -> None:
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category, verdict.layer) == ("review", category, "rules")


@pytest.mark.parametrize("prompt", ALLOWED)
def test_the_same_verbs_in_ordinary_prompts_are_allowed(prompt: str) -> None:
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == ("allow", None)
