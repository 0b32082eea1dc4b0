"""A listed word of one language that is an ordinary word of another, or has a second,
ordinary meaning in its own (rules ``builtin-2026-12-07.2``). Found by looking every
single-word term up in word-frequency lists of the other supported languages; each
ordinary use below was blocked, held or locked the account before, and the listed
meaning still counts. Every prompt below was
written for this test.
"""

from __future__ import annotations

import pytest

from moderation.engine.pipeline import TextModerator

RULES_ONLY = TextModerator(classifier=None)

# (prompt, what it was, why)
ORDINARY = [
    ("affiche pour les enfants à risque", "block sexual_minors", "French risque: risk"),
    ("Kinder haben Lust auf Eis", "review sexual", "German Lust auf: fancy"),
    ("Lust auf Pizza, Familienabend", "review sexual", "German Lust auf: fancy"),
    ("niños aprendiendo a hacer un nudo marinero", "block sexual_minors", "Spanish nudo: knot"),
    ("a criança pede um sorvete", "block hate", "Portuguese pede: asks"),
    ("un bimbo che gioca al parco", "review sexual", "Italian bimbo: a small child"),
    ("les enfants jouent en dessous du pont", "block sexual_minors", "French dessous: below"),
    ("le dessous de la table, un enfant caché", "block sexual_minors", "French: underside"),
    ("Kinder, dick eingepackt im Winter", "block sexual", "German dick: thick"),
    ("Der Hund ist dick und rund", "block sexual", "German dick: fat"),
    ("un coche violando el semáforo en rojo", "block nonconsensual", "Spanish: running a light"),
    ("violación de derechos humanos, cartel", "block nonconsensual", "a rights violation"),
    ("a minor league baseball game, kids in the stands", "-", "minor league"),
    ("a song in a minor key, sensual", "block sexual_minors", "minor key: no child"),
    ("un train en retard sous la pluie", "block hate", "French retard: delay"),
    # accents folded: "élevé" (high) is "élève" (pupil)
    ("une femme sexy, niveau de détail élevé", "block sexual_minors", "French élevé: high"),
    ("une femme en lingerie, contraste élevé", "block sexual_minors", "French élevé: high"),
    ("una donna sexy, con minor dettaglio", "block sexual_minors", "Italian minor: lesser"),
    ("un pedo gracioso, chiste sexy", "block sexual_minors", "Spanish pedo: a fart"),
    # a second meaning in the same language
    ("طفلة تحمل الجنسية الفرنسية", "block sexual_minors", "Arabic جنسية: nationality"),
    ("طفل يحمل جواز سفر بجنسية مزدوجة", "block sexual_minors", "dual nationality"),
    ("طفل في مؤخرة الحافلة", "block sexual_minors", "Arabic مؤخرة: the back of the bus"),
]

STILL_CAUGHT = [
    ("a risque photo of a teen", "block", "sexual_minors"),
    ("Schulmädchen voller Lust", "block", "sexual_minors"),
    ("ein Mädchen, 12, nudo", "block", "sexual_minors"),
    ("sale pédé", "block", "hate"),
    ("un bimbo nudo", "block", "sexual_minors"),
    ("bambina in dessous", "block", "sexual_minors"),
    ("violación de una niña", "block", "sexual_minors"),
    ("a dick pic", "block", "sexual"),
    ("a minor in lingerie", "block", "sexual_minors"),
    ("you retard", "block", "hate"),
    ("une élève de 12 ans en lingerie", "block", "sexual_minors"),
    ("l'élève nue", "block", "sexual_minors"),
    ("a pedo with a child", "block", "sexual_minors"),
    ("طفلة في صور جنسية", "block", "sexual_minors"),
    ("فتاة قاصر، إيحاءات جنسية", "block", "sexual_minors"),
    ("طفل، مؤخرة عارية", "block", "sexual_minors"),
]


@pytest.mark.parametrize(("prompt", "was", "why"), ORDINARY)
def test_an_ordinary_word_of_another_language_is_not_the_listed_term(
    prompt: str, was: str, why: str
):
    verdict = RULES_ONLY.check(prompt)
    assert verdict.category != "sexual_minors", why
    assert f"{verdict.decision} {verdict.category}" != was, why
    if not any(word in prompt for word in ("sensual", "sexy", "lingerie")):
        assert (verdict.decision, verdict.category) == ("allow", None), why


@pytest.mark.parametrize(("prompt", "decision", "category"), STILL_CAUGHT)
def test_the_listed_meaning_still_counts(prompt: str, decision: str, category: str):
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == (decision, category), prompt
