from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accountability.models import AuditLogEntry
from accounts.models import AccountState, User
from accounts.services import account_set_state
from core.errors import ApplicationError
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
def test_set_state_is_audited_with_reason_and_before_after() -> None:
    user = UserFactory.create()
    moderator = UserFactory.create(groups=["moderators"])
    until = timezone.now() + dt.timedelta(hours=2)
    account_set_state(
        user=user, state=AccountState.COOLDOWN, reason="Two strikes", actor=moderator, until=until
    )
    user.refresh_from_db()
    assert (user.account_state, user.account_state_reason) == ("cooldown", "Two strikes")
    assert user.cooldown_until == until
    entry = AuditLogEntry.objects.get(action="accounts.account_state.set")
    assert entry.actor_id == moderator.pk
    assert entry.target_id == str(user.pk)
    assert entry.before["account_state"] == "active"
    assert entry.after["account_state"] == "cooldown"
    assert entry.reason == "Two strikes"


@pytest.mark.django_db
def test_suspend_clears_a_cooldown_end() -> None:
    user = UserFactory.create(
        account_state=AccountState.COOLDOWN, cooldown_until=timezone.now() + dt.timedelta(hours=1)
    )
    account_set_state(user=user, state="suspended", reason="Review", actor=None)
    user.refresh_from_db()
    assert (user.account_state, user.cooldown_until) == ("suspended", None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "reason", "until"),
    [
        ("suspended", "", None),
        ("cooldown", "Strikes", None),
        ("cooldown", "Strikes", timezone.now() - dt.timedelta(minutes=1)),
    ],
)
def test_refused_state_changes_change_nothing(state, reason, until) -> None:
    user = UserFactory.create()
    with pytest.raises(ApplicationError) as exc:
        account_set_state(user=user, state=state, reason=reason, actor=None, until=until)
    assert exc.value.code == "invalid_request"
    assert User.objects.get(pk=user.pk).account_state == "active"
    assert not AuditLogEntry.objects.filter(action="accounts.account_state.set").exists()
