"""Every term of every list still hits under every evasion (issue 11, item 2)."""

from __future__ import annotations

import pytest

from moderation.engine.rules import default_ruleset
from tests.moderation.evasions import EVASIONS


def _term_cases() -> list[tuple[str, str]]:
    ruleset = default_ruleset()
    cases = []
    for group in ruleset.groups.values():
        for term in group.terms:
            cases.append((group.name, term.rstrip("*")))
    return cases


@pytest.mark.parametrize("evasion", sorted(EVASIONS))
def test_every_term_of_every_list_hits_under_evasion(evasion: str):
    ruleset = default_ruleset()
    rewrite = EVASIONS[evasion]
    missed = []
    tried = 0
    for group, term in _term_cases():
        evaded = rewrite(term)
        if evaded is None:
            continue
        tried += 1
        prompt = f"photo of {evaded} at dusk"
        if not any(m.group == group for m in ruleset.match(prompt)):
            missed.append((group, term, evaded))
    assert tried > 300
    assert missed == []
