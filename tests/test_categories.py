"""The category registry (core.categories) and everything that must agree with it."""

from __future__ import annotations

import json

import pytest

from accountability import dsa
from accountability.models import ReportReason
from accountability.reports import REPORT_SEVERITY
from accounts.validation import validate_overrides
from core import categories
from moderation import images, openai_adapter
from moderation.engine import pipeline, rules
from moderation.engine.text_classifier import DEFAULT_HEAD_PATH


def test_the_rules_engine_knows_exactly_the_registry_categories() -> None:
    assert set(rules.CATEGORIES) == categories.KEYS


def test_the_shipped_head_classifies_only_registry_categories() -> None:
    classes = json.loads(DEFAULT_HEAD_PATH.read_text())["classes"]
    unsafe = set(classes) - {"benign"}
    assert unsafe <= categories.KEYS
    assert not {key for key in unsafe if categories.BY_KEY[key].is_indicator}


def test_shipped_strike_weights_are_the_registry_severities() -> None:
    shipped = rules.load_ruleset_dict()["severity"]
    assert shipped == {c.key: c.severity for c in categories.CATEGORIES}


def test_every_copy_of_the_decision_ranks_is_the_registry() -> None:
    assert pipeline.DECISION_RANK == categories.DECISION_RANK
    assert images.DECISION_RANK is categories.DECISION_RANK
    assert openai_adapter.DECISION_RANK is categories.DECISION_RANK


def test_the_external_api_maps_only_onto_registry_categories() -> None:
    assert set(openai_adapter.CATEGORY_MAP.values()) <= categories.KEYS
    assert set(openai_adapter.SEVERITY_ORDER) <= categories.KEYS


def test_the_report_form_offers_the_reportable_categories_and_other() -> None:
    assert [value for value, _ in ReportReason.choices] == [
        "sexual",
        "sexual_minors",
        "nonconsensual",
        "violence_graphic",
        "hate",
        "self_harm",
        "illegal",
        "other",
    ]
    offered = {value: label for value, label in ReportReason.choices if value != "other"}
    assert offered == {c.key: c.title for c in categories.REPORTABLE}
    assert set(REPORT_SEVERITY) == set(ReportReason.values)


@pytest.mark.parametrize("key", sorted(categories.KEYS))
def test_every_category_exports_to_a_dsa_category_and_cites_a_ground(key: str) -> None:
    category = categories.BY_KEY[key]
    assert dsa.CATEGORY[key] == category.dsa_category != dsa.CATEGORY_DEFAULT
    assert category.dsa_category.startswith("STATEMENT_CATEGORY_")
    assert all(k.startswith("KEYWORD_") for k in category.dsa_keywords)
    assert category.policy_section.startswith("Imagegate content policy: ")
    assert categories.category_label(key) == category.label


@pytest.mark.parametrize("key", sorted(categories.KEYS))
def test_jurisdiction_overrides_accept_every_registry_category(key: str) -> None:
    validate_overrides({key: {"allow": 0.2, "block": 0.6}})


def test_jurisdiction_overrides_refuse_an_unknown_category() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_overrides({"gambling": {"allow": 0.2, "block": 0.6}})
