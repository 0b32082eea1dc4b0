"""The moderation categories of SPEC §3: one registry that every app reads.

A category is added here (with its term list and a retrained head, see
docs/architecture.md); the statement text, the DSA export, the report form, policy
validation and the dashboard all follow. ``tests/test_categories.py`` fails when the
rules engine, the classifier head or a consumer disagrees with this registry.

The engines (``moderation.engine``) are plain Python and keep their own key lists;
the same test holds them to this one.
"""

from __future__ import annotations

from dataclasses import dataclass

# The three outcomes of every moderation layer, strictest last.
DECISION_RANK: dict[str, int] = {"allow": 0, "review": 1, "block": 2}


@dataclass(frozen=True)
class Category:
    key: str
    label: str  # in running text: "blocked under the content policy (graphic violence)"
    title: str  # as a choice or a heading: "Graphic violence"
    severity: int  # default strike weight; ties between layers go to the more severe
    policy_section: str  # the ground a statement of reasons cites
    dsa_category: str  # EU DSA Transparency Database category
    dsa_keywords: tuple[str, ...] = ()
    legal_ground: str = ""  # illegal content: the law, for the statement of reasons
    is_indicator: bool = False  # decides nothing alone (``minors``)
    is_reportable: bool = True  # offered in the report form
    report_priority: int = 2  # triage priority of a user report under it (5 first)


# In dashboard order: zero tolerance first, then by harm.
CATEGORIES: tuple[Category, ...] = (
    Category(
        key="sexual_minors",
        label="sexual content involving minors",
        title="Sexual content involving minors",
        severity=5,
        policy_section=(
            "Imagegate content policy: sexual content involving minors (illegal content)"
        ),
        dsa_category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        dsa_keywords=("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
        legal_ground=(
            "Directive 2011/93/EU (child sexual abuse material) and national criminal law"
        ),
        report_priority=5,
    ),
    Category(
        key="nonconsensual",
        label="non-consensual imagery of a real person",
        title="Non-consensual imagery of a real person",
        severity=4,
        policy_section="Imagegate content policy: non-consensual imagery",
        dsa_category="STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        dsa_keywords=("KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",),
        report_priority=4,
    ),
    Category(
        key="sexual",
        label="sexual content",
        title="Sexual content",
        severity=2,
        policy_section="Imagegate content policy: sexual content",
        dsa_category="STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        dsa_keywords=("KEYWORD_ADULT_SEXUAL_MATERIAL",),
    ),
    Category(
        key="violence_graphic",
        label="graphic violence",
        title="Graphic violence",
        severity=2,
        policy_section="Imagegate content policy: graphic violence",
        dsa_category="STATEMENT_CATEGORY_VIOLENCE",
        report_priority=3,
    ),
    Category(
        key="hate",
        label="hate",
        title="Hate",
        severity=3,
        policy_section="Imagegate content policy: hate",
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        dsa_keywords=("KEYWORD_HATE_SPEECH",),
        report_priority=3,
    ),
    Category(
        key="self_harm",
        label="self-harm",
        title="Self-harm",
        severity=3,
        policy_section="Imagegate content policy: self-harm",
        dsa_category="STATEMENT_CATEGORY_SELF_HARM",
        dsa_keywords=("KEYWORD_SELF_MUTILATION",),
        report_priority=3,
    ),
    Category(
        key="illegal",
        label="illegal activity",
        title="Illegal activity",
        severity=1,
        policy_section="Imagegate content policy: illegal activity",
        dsa_category="STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        report_priority=4,
    ),
    Category(
        key="minors",
        label="depiction of minors",
        title="Depiction of minors",
        severity=0,
        policy_section="Imagegate content policy: content involving minors",
        dsa_category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        is_indicator=True,
        is_reportable=False,
    ),
)

BY_KEY: dict[str, Category] = {category.key: category for category in CATEGORIES}
KEYS: frozenset[str] = frozenset(BY_KEY)
# Categories a user can report content under, in the registry's order.
REPORTABLE: tuple[Category, ...] = tuple(c for c in CATEGORIES if c.is_reportable)
# The ``category_label`` of each key, for templates and messages.
CATEGORY_LABELS: dict[str, str] = {category.key: category.label for category in CATEGORIES}


def category_label(key: str | None) -> str:
    if not key:
        return ""
    return CATEGORY_LABELS.get(key, key.replace("_", " "))
