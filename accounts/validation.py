"""Validation of jurisdiction rows (admin forms call it through ``Jurisdiction.clean``)."""

from __future__ import annotations

import re
from typing import Any, Protocol

from django.core.exceptions import ValidationError

from accounts.countries import COUNTRIES
from core import categories


class JurisdictionFields(Protocol):
    """What is validated of a ``Jurisdiction`` row (the model imports this module)."""

    country: str
    region: str
    min_age: int
    disabled_features: Any
    moderation_overrides: Any


REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
FEATURE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def validate_region(*, country: str, region: str) -> None:
    if not region:
        return
    if not REGION_PATTERN.match(region):
        raise ValidationError({"region": "Use an ISO 3166-2 code such as US-AL."})
    if region[:2] != country:
        raise ValidationError({"region": f"{region} is not a region of {country or 'no country'}."})


def validate_overrides(overrides: Any) -> None:
    if not isinstance(overrides, dict):
        raise ValidationError({"moderation_overrides": "A JSON object of category → thresholds."})
    for category, thresholds in overrides.items():
        if category not in categories.KEYS:
            raise ValidationError({"moderation_overrides": f"Unknown category {category!r}."})
        if not isinstance(thresholds, dict) or set(thresholds) - {"allow", "block"}:
            raise ValidationError(
                {"moderation_overrides": f"{category}: give only 'allow' and 'block'."}
            )
        values = {}
        for key in ("allow", "block"):
            if key in thresholds:
                value = thresholds[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValidationError({"moderation_overrides": f"{category}.{key}: a number."})
                if not 0.0 <= float(value) <= 1.0:
                    raise ValidationError(
                        {"moderation_overrides": f"{category}.{key}: between 0 and 1."}
                    )
                values[key] = float(value)
        if "allow" in values and "block" in values and values["allow"] > values["block"]:
            raise ValidationError(
                {"moderation_overrides": f"{category}: 'allow' must not exceed 'block'."}
            )


def validate_features(features: Any) -> None:
    if not isinstance(features, list) or not all(
        isinstance(item, str) and FEATURE_PATTERN.match(item) for item in features
    ):
        raise ValidationError(
            {"disabled_features": 'A JSON list of feature codes, e.g. ["photoreal_humans"].'}
        )


def validate_jurisdiction(jurisdiction: JurisdictionFields) -> None:
    jurisdiction.country = jurisdiction.country.upper()
    jurisdiction.region = jurisdiction.region.upper()
    if jurisdiction.country and jurisdiction.country not in COUNTRIES:
        raise ValidationError({"country": "Unknown ISO 3166-1 country code."})
    validate_region(country=jurisdiction.country, region=jurisdiction.region)
    if not 13 <= jurisdiction.min_age <= 25:
        raise ValidationError({"min_age": "A minimum age between 13 and 25."})
    validate_features(jurisdiction.disabled_features)
    validate_overrides(jurisdiction.moderation_overrides)
