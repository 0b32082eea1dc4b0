"""What the zero-tolerance test files assert again and again, said once."""

from __future__ import annotations

from moderation.engine.pipeline import TextModerator

RULES_ONLY = TextModerator(classifier=None)
REQUEST_STAGE = TextModerator(classifier_deferred=True)


def assert_rules_decide_sexual_minors(prompt: str, decision: str) -> None:
    """The rules give ``prompt`` ``decision`` (block, or review for seniors) as
    ``sexual_minors``, alone and at the request stage."""
    for moderator in (RULES_ONLY, REQUEST_STAGE):
        verdict = moderator.check(prompt)
        assert (verdict.decision, verdict.category, verdict.layer) == (
            decision,
            "sexual_minors",
            "rules",
        ), prompt


def assert_rules_block_as_sexual_minors(prompt: str) -> None:
    """The rules block ``prompt`` as ``sexual_minors``, alone and at the request stage."""
    assert_rules_decide_sexual_minors(prompt, "block")


class FixedSexualScore:
    """A classifier that gives every prompt the same sexual probability."""

    def __init__(self, sexual: float) -> None:
        self.sexual = sexual

    def scores(self, text: str) -> dict[str, float]:
        return {"sexual": self.sexual}
