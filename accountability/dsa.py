"""The DSA Transparency Database vocabulary and the export of statements of reasons.

Field names and values follow the Transparency Database's statement API
(``decision_visibility`` … ``puid``); stored values are this site's short names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from accountability.models import StatementOfReasons
from core import categories

EEA_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip

DECISION_VISIBILITY = {
    "content_removed": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "content_disabled": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "content_demoted": "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "other": "DECISION_VISIBILITY_OTHER",
}
DECISION_ACCOUNT = {
    "suspended": "DECISION_ACCOUNT_SUSPENDED",
    "terminated": "DECISION_ACCOUNT_TERMINATED",
}
DECISION_PROVISION = {
    "partial_suspension": "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "total_suspension": "DECISION_PROVISION_TOTAL_SUSPENSION",
    "partial_termination": "DECISION_PROVISION_PARTIAL_TERMINATION",
    "total_termination": "DECISION_PROVISION_TOTAL_TERMINATION",
}
DECISION_MONETARY = {
    "suspension": "DECISION_MONETARY_SUSPENSION",
    "termination": "DECISION_MONETARY_TERMINATION",
    "other": "DECISION_MONETARY_OTHER",
}
DECISION_GROUND = {
    "illegal_content": "DECISION_GROUND_ILLEGAL_CONTENT",
    "incompatible_content": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
}
CONTENT_TYPE = {
    "text": "CONTENT_TYPE_TEXT",
    "image": "CONTENT_TYPE_IMAGE",
    "synthetic_media": "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "other": "CONTENT_TYPE_OTHER",
}
AUTOMATED_DECISION = {
    "fully": "AUTOMATED_DECISION_FULLY",
    "partially": "AUTOMATED_DECISION_PARTIALLY",
    "not_automated": "AUTOMATED_DECISION_NOT_AUTOMATED",
}
SOURCE_TYPE = {
    "voluntary": "SOURCE_VOLUNTARY",
    "article_16": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER",
}
# The site's moderation categories (SPEC §3) → the Transparency Database's categories,
# from the registry; an unknown key (from data older than a category's removal) is
# exported as outside the platform's scope rather than dropped.
CATEGORY = {c.key: c.dsa_category for c in categories.CATEGORIES}
CATEGORY_DEFAULT = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
CATEGORY_SPECIFICATION = {c.key: list(c.dsa_keywords) for c in categories.CATEGORIES}

ALLOWED_VALUES: dict[str, set[str]] = {
    "decision_visibility": set(DECISION_VISIBILITY.values()),
    "decision_account": set(DECISION_ACCOUNT.values()),
    "decision_provision": set(DECISION_PROVISION.values()),
    "decision_monetary": set(DECISION_MONETARY.values()),
    "decision_ground": set(DECISION_GROUND.values()),
    "content_type": set(CONTENT_TYPE.values()),
    "category": {*CATEGORY.values(), CATEGORY_DEFAULT},
    "automated_detection": {"Yes", "No"},
    "automated_decision": set(AUTOMATED_DECISION.values()),
    "source_type": set(SOURCE_TYPE.values()),
    "territorial_scope": set(EEA_COUNTRIES),
}
EXPORT_FIELDS = (
    "decision_visibility",
    "decision_visibility_other",
    "decision_account",
    "decision_provision",
    "decision_monetary",
    "decision_monetary_other",
    "decision_ground",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "category",
    "category_specification",
    "automated_detection",
    "automated_decision",
    "decision_facts",
    "application_date",
    "source_type",
    "territorial_scope",
    "puid",
)


def statement_as_dsa(statement: StatementOfReasons) -> dict[str, Any]:
    """One statement in the Transparency Database's field names and values."""
    is_illegal = statement.decision_ground == "illegal_content"
    record: dict[str, Any] = {
        "decision_visibility": (
            [DECISION_VISIBILITY[statement.decision_visibility]]
            if statement.decision_visibility
            else []
        ),
        "decision_visibility_other": statement.decision_visibility_other or None,
        "decision_account": DECISION_ACCOUNT.get(statement.decision_account),
        "decision_provision": DECISION_PROVISION.get(statement.decision_provision),
        "decision_monetary": DECISION_MONETARY.get(statement.decision_monetary),
        "decision_monetary_other": None,
        "decision_ground": DECISION_GROUND[statement.decision_ground],
        "illegal_content_legal_ground": statement.ground_reference if is_illegal else None,
        "illegal_content_explanation": statement.facts if is_illegal else None,
        "incompatible_content_ground": None if is_illegal else statement.ground_reference,
        "incompatible_content_explanation": None if is_illegal else statement.facts,
        "incompatible_content_illegal": None if is_illegal else "No",
        "content_type": [CONTENT_TYPE[statement.content_type]],
        "category": CATEGORY.get(statement.category, CATEGORY_DEFAULT),
        "category_specification": CATEGORY_SPECIFICATION.get(statement.category, []),
        "automated_detection": "Yes" if statement.automated_detection else "No",
        "automated_decision": AUTOMATED_DECISION[statement.automated_decision],
        "decision_facts": statement.facts,
        "application_date": statement.application_date.date().isoformat(),
        "source_type": SOURCE_TYPE[statement.source_type],
        "territorial_scope": sorted(statement.territorial_scope),
        "puid": statement.puid,
    }
    return record


def statements_since(since: dt.date) -> Iterator[StatementOfReasons]:
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    return (
        StatementOfReasons.objects.filter(created_at__gte=start)
        .order_by("created_at")
        .iterator(chunk_size=1000)
    )


def validate_dsa_record(record: dict[str, Any]) -> list[str]:
    """Problems with one exported record (empty when it is valid)."""
    problems: list[str] = []
    if set(record) != set(EXPORT_FIELDS):
        problems.append(f"fields differ: {sorted(set(record) ^ set(EXPORT_FIELDS))}")
    for field, allowed in ALLOWED_VALUES.items():
        value = record.get(field)
        values: Iterable[Any] = value if isinstance(value, list) else [value]
        optional = field in {"decision_account", "decision_provision", "decision_monetary"}
        for item in values:
            if item is None and optional:
                continue
            if item not in allowed:
                problems.append(f"{field}: {item!r} is not allowed")
    if not (
        record.get("decision_visibility")
        or record.get("decision_account")
        or record.get("decision_provision")
        or record.get("decision_monetary")
    ):
        problems.append("no decision_* field is set")
    for field in ("decision_facts", "puid", "application_date"):
        if not record.get(field):
            problems.append(f"{field} is empty")
    try:
        dt.date.fromisoformat(str(record.get("application_date")))
    except ValueError:
        problems.append("application_date is not YYYY-MM-DD")
    return problems
