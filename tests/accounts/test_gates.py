from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.gates import (
    gate_account_state,
    gate_age_verified,
    gate_email_verified,
    gate_region_allows,
)
from accounts.models import AccountState, AgeVerificationStatus, User
from core.errors import ApplicationError
from tests.accounts.factories import AdultFactory, UserFactory


def _accounts_gates(user: User, features: tuple[str, ...] = ()) -> None:
    """The accounts gates in SPEC §1 order (billing's plan gate sits between 2 and 3)."""
    gate_email_verified(user=user)
    gate_age_verified(user=user)
    gate_account_state(user=user)
    gate_region_allows(user=user, features=features)


def _code(user: User, features: tuple[str, ...] = ()) -> str | None:
    try:
        _accounts_gates(user, features)
    except ApplicationError as exc:
        assert exc.status == 403
        return str(exc.code)
    return None


@pytest.mark.django_db
def test_each_gate_answers_its_code_in_order() -> None:
    user = UserFactory.create(
        email_verified=False,
        country="KR",
        account_state=AccountState.SUSPENDED,
        account_state_reason="test",
    )
    assert _code(user, ("adult_content",)) == "email_unverified"
    EmailAddress.objects.filter(user=user).update(verified=True)
    assert _code(user, ("adult_content",)) == "age_verification_required"
    user.age_verification_status = AgeVerificationStatus.VERIFIED
    assert _code(user, ("adult_content",)) == "account_suspended"
    user.account_state = AccountState.COOLDOWN
    user.cooldown_until = timezone.now() + dt.timedelta(hours=1)
    assert _code(user, ("adult_content",)) == "cooldown"
    user.account_state = AccountState.ACTIVE
    assert _code(user, ("adult_content",)) == "region_restricted"
    assert _code(user, ("photoreal_humans",)) is None


@pytest.mark.django_db
def test_email_gate_needs_the_accounts_own_address_verified() -> None:
    user = UserFactory.create(email_verified=False)
    EmailAddress.objects.create(user=user, email="another@example.com", verified=True)
    with pytest.raises(ApplicationError) as exc:
        gate_email_verified(user=user)
    assert exc.value.code == "email_unverified"


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["unverified", "pending", "failed"])
def test_age_gate_refuses_every_status_but_verified(status: str) -> None:
    user = UserFactory.create(age_verification_status=status)
    with pytest.raises(ApplicationError) as exc:
        gate_age_verified(user=user)
    assert exc.value.code == "age_verification_required"
    assert exc.value.details["min_age"] == 18


@pytest.mark.django_db
def test_age_gate_uses_the_stricter_region_minimum() -> None:
    today = timezone.now().date()
    user = AdultFactory.create(
        country="US",
        region="US-MS",
        time_zone="UTC",
        date_of_birth=dt.date(today.year - 20, 1, 1),
    )
    with pytest.raises(ApplicationError) as exc:
        gate_age_verified(user=user)
    assert exc.value.code == "age_verification_required"
    assert exc.value.details["min_age"] == 21
    user.region = "US-AL"
    gate_age_verified(user=user)


@pytest.mark.django_db
def test_banned_answers_account_suspended() -> None:
    user = AdultFactory.create(account_state=AccountState.BANNED)
    with pytest.raises(ApplicationError) as exc:
        gate_account_state(user=user)
    assert exc.value.code == "account_suspended"


@pytest.mark.django_db
def test_cooldown_has_retry_after_and_ends_by_itself() -> None:
    user = AdultFactory.create(
        account_state=AccountState.COOLDOWN,
        cooldown_until=timezone.now() + dt.timedelta(minutes=10),
    )
    with pytest.raises(ApplicationError) as exc:
        gate_account_state(user=user)
    assert exc.value.code == "cooldown"
    assert 590 <= int(exc.value.headers["Retry-After"]) <= 600
    user.cooldown_until = timezone.now() - dt.timedelta(seconds=1)
    gate_account_state(user=user)


@pytest.mark.django_db
def test_gates_write_nothing(django_assert_num_queries) -> None:
    user = AdultFactory.create()
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(3):  # email address, and one jurisdiction read per gate
        _accounts_gates(user, ("photoreal_humans",))
