"""Staff roles as Django permissions, in one module (SPEC §1).

Groups are how operators seat people; permissions are what the code checks. Every
check of a staff role goes through this module, so a new staff group needs only its
permissions (a data migration or the admin), never a new list of group names:

- ``accounts.review_content``: the review console, decisions, reports, dashboards
  (group ``moderators``, and ``senior_moderators``);
- ``accounts.senior_moderation``: appeals, bans, CSAM escalations, policy editing,
  legal holds and manual age verification (group ``senior_moderators``);
- the billing models' own permissions: the billing back office (group ``billing_admins``).

Mandatory MFA follows "holds any permission at all", so a staff group that is
forgotten here still cannot skip two-factor authentication.
"""

from __future__ import annotations

from typing import Any

REVIEW_CONTENT = "accounts.review_content"
SENIOR_MODERATION = "accounts.senior_moderation"

MODERATORS = "moderators"
SENIOR_MODERATORS = "senior_moderators"
BILLING_ADMINS = "billing_admins"

# The permissions (codenames on ``accounts.User``) each moderation group holds; the
# billing group's model permissions are granted by billing's own migration.
GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MODERATORS: ("review_content",),
    SENIOR_MODERATORS: ("review_content", "senior_moderation"),
}
STAFF_GROUPS = (MODERATORS, SENIOR_MODERATORS, BILLING_ADMINS)


def _is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def user_can_review(user: Any) -> bool:
    """Moderators, senior moderators and superusers (active accounts only)."""
    return _is_signed_in(user) and bool(user.has_perm(REVIEW_CONTENT))


def user_is_senior_moderator(user: Any) -> bool:
    """Senior moderators and superusers (active accounts only)."""
    return _is_signed_in(user) and bool(user.has_perm(SENIOR_MODERATION))


def user_is_billing_admin(user: Any) -> bool:
    """Anyone who may use the billing back office (any billing permission)."""
    return _is_signed_in(user) and bool(user.has_module_perms("billing"))


def user_holds_staff_permission(user: Any) -> bool:
    """Superusers and anyone holding any permission: MFA is mandatory for them."""
    if not _is_signed_in(user):
        return False
    return bool(user.is_superuser or user.get_all_permissions())


def seat_staff_groups(**kwargs: Any) -> None:
    """Create the moderation groups and grant their role permissions (idempotent).

    Connected to ``post_migrate``, which also runs after a test database is flushed,
    so the groups always carry their permissions.
    """
    from django.contrib.auth.models import Group, Permission

    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )
