"""Staff roles are permissions checked in one module (accounts.roles)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from accounts import roles
from tests.accounts.factories import UserFactory, enrol_totp

ENROL = "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_moderation_groups_carry_their_role_permissions() -> None:
    granted = {
        name: set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        for name in (roles.MODERATORS, roles.SENIOR_MODERATORS)
    }
    assert granted == {
        roles.MODERATORS: {"review_content"},
        roles.SENIOR_MODERATORS: {"review_content", "senior_moderation"},
    }


@pytest.mark.django_db
def test_seating_is_restored_by_migrate_after_it_was_lost() -> None:
    Group.objects.get(name=roles.SENIOR_MODERATORS).permissions.clear()
    call_command("migrate", verbosity=0)
    codenames = Group.objects.get(name=roles.SENIOR_MODERATORS).permissions.values_list(
        "codename", flat=True
    )
    assert sorted(codenames) == ["review_content", "senior_moderation"]


@pytest.mark.django_db
def test_roles_follow_permissions_not_group_names() -> None:
    reviewers = Group.objects.create(name="trust_and_safety_contractors")
    reviewers.permissions.add(Permission.objects.get(codename="review_content"))
    user = UserFactory.create(groups=["trust_and_safety_contractors"])
    assert roles.user_can_review(user)
    assert not roles.user_is_senior_moderator(user)
    assert not roles.user_is_billing_admin(user)


@pytest.mark.django_db
def test_a_new_staff_group_cannot_skip_mfa(client: Client) -> None:
    """Any permission makes MFA mandatory, whatever the group is called."""
    analysts = Group.objects.create(name="fraud_analysts")
    analysts.permissions.add(Permission.objects.get(codename="view_creditledgerentry"))
    user = UserFactory.create(groups=["fraud_analysts"], is_staff=True)
    client.force_login(user)
    assert client.get("/admin/")["Location"] == ENROL
    enrol_totp(user)
    assert client.get("/admin/").get("Location") != ENROL


@pytest.mark.django_db
def test_a_reviewer_in_a_new_group_opens_the_console(client: Client) -> None:
    reviewers = Group.objects.create(name="night_shift")
    reviewers.permissions.add(Permission.objects.get(codename="review_content"))
    user = UserFactory.create(groups=["night_shift"])
    enrol_totp(user)
    client.force_login(user)
    assert client.get("/moderation/").status_code == 200
    assert client.get("/moderation/policy/").status_code == 403


@pytest.mark.django_db
def test_inactive_and_anonymous_users_hold_no_role() -> None:
    senior = UserFactory.create(groups=[roles.SENIOR_MODERATORS], is_active=False)
    assert not roles.user_is_senior_moderator(senior)
    assert not roles.user_holds_staff_permission(None)
    member = UserFactory.create()
    assert not roles.user_holds_staff_permission(member)
