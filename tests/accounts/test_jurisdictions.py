from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Jurisdiction
from accounts.selectors import jurisdiction_for, user_jurisdiction
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "region", "code", "min_age"),
    [
        ("US", "US-AL", "US-AL", 19),
        ("US", "US-MS", "US-MS", 21),
        ("US", "US-NE", "US-NE", 19),
        ("US", "US-CA", "default", 18),  # no US row: the default
        ("CA", "CA-BC", "CA-BC", 19),
        ("JP", "", "JP", 18),
        ("KR", "", "KR", 19),
        ("DE", "", "DE", 18),
        ("FR", "", "default", 18),
        ("", "", "default", 18),
    ],
)
def test_region_then_country_then_default(country, region, code, min_age) -> None:
    jurisdiction = jurisdiction_for(country=country, region=region)
    assert (jurisdiction.code, jurisdiction.min_age) == (code, min_age)


@pytest.mark.django_db
def test_country_row_applies_to_an_unlisted_region() -> None:
    Jurisdiction.objects.create(country="US", name="United States", min_age=18)
    assert jurisdiction_for(country="US", region="US-CA").code == "US"
    assert jurisdiction_for(country="US", region="US-MS").code == "US-MS"


@pytest.mark.django_db
def test_user_jurisdiction_has_the_contract_fields() -> None:
    user = UserFactory.create(country="DE")
    jurisdiction = user_jurisdiction(user=user)
    assert jurisdiction.min_age == 18
    assert jurisdiction.disabled_features == []
    assert jurisdiction.moderation_overrides["hate"] == {"allow": 0.2, "block": 0.6}
    assert user_jurisdiction(user=UserFactory.create(country="KR")).disabled_features == [
        "adult_content"
    ]


@pytest.mark.django_db
def test_without_any_row_the_default_is_18() -> None:
    Jurisdiction.objects.all().delete()
    assert jurisdiction_for(country="US", region="US-MS").min_age == 18


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"country": "XX"},
        {"country": "DE", "region": "US-AL"},
        {"country": "US", "region": "Alabama"},
        {"min_age": 9},
        {"disabled_features": "photoreal_humans"},
        {"moderation_overrides": {"unknown": {"allow": 0.1, "block": 0.2}}},
        {"moderation_overrides": {"hate": {"allow": 0.8, "block": 0.2}}},
        {"moderation_overrides": {"hate": {"allow": 2}}},
    ],
)
def test_invalid_jurisdictions_are_refused(fields) -> None:
    values = {"country": "FR", "name": "France", "min_age": 18, **fields}
    with pytest.raises(ValidationError):
        Jurisdiction(**values).full_clean()
