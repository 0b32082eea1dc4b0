"""Migration 0004 brings the December 6 rules (issue 11) to an untouched database."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from moderation.engine.pipeline import DEFAULT_MINOR_SEXUAL
from moderation.models import PolicyVersion
from moderation.policy import default_policy_document, policy_current

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("moderation.migrations.0004_policy_builtin_2026_12_06")


def _november_document() -> dict:
    """The built-in document as it was before issue 11."""
    document = default_policy_document()
    groups = document["rules"]["groups"]
    for name in [n for n in groups if n.endswith(("_i18n", "_i18n_review"))]:
        del groups[name]
    del groups["sexual_indicator"], groups["minors_extra"]
    document["rules"]["combinations"] = [
        c for c in document["rules"]["combinations"] if c["name"] != "minor_with_sexual_indicator"
    ]
    document["minor_sexual"] = None
    del document["regional_min_unsafe"]
    return document


def test_an_untouched_default_gets_the_zero_tolerance_rules_and_knobs() -> None:
    newest = policy_current()
    PolicyVersion.objects.create(
        number=newest.number + 1,
        reason="Built-in default policy (rules of 2026-11-29).",
        document=_november_document(),
    )
    MIGRATION.publish_builtin(apps, None)
    published = policy_current()
    assert published.number == newest.number + 2
    assert published.document == default_policy_document()
    assert published.reason.startswith("Built-in default policy (rules of 2026-12-06")
    assert published.document["minor_sexual"] == DEFAULT_MINOR_SEXUAL
    assert published.document["regional_min_unsafe"] is None
    assert {"all": ["minors", "sexual_indicator"]}.items() <= next(
        c for c in published.document["rules"]["combinations"]
        if c["name"] == "minor_with_sexual_indicator"
    ).items()  # fmt: skip
    assert "hate_i18n" in published.document["rules"]["groups"]


def test_an_edited_policy_is_left_alone() -> None:
    edited = PolicyVersion.objects.create(
        number=policy_current().number + 1,
        reason="Senior moderator: stricter violence terms.",
        document=_november_document(),
    )
    MIGRATION.publish_builtin(apps, None)
    assert policy_current() == edited
