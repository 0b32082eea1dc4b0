"""Demo accounts of SPEC §10, created idempotently by ``manage.py seed_demo``."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import AgeVerificationStatus, User
from accounts.roles import STAFF_GROUPS


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    age_verified: bool = True
    groups: tuple[str, ...] = ()
    superuser: bool = False

    @property
    def is_staff_account(self) -> bool:
        return bool(self.groups) or self.superuser


DEMO_ACCOUNTS = (
    DemoAccount("member@example.com", "member: email verified, not age-verified, no plan", False),
    DemoAccount("subscriber@example.com", "subscriber: verified adult on premium"),
    DemoAccount("pro@example.com", "subscriber: verified adult on pro"),
    DemoAccount("moderator@example.com", "moderator", groups=("moderators",)),
    DemoAccount("senior@example.com", "senior moderator", groups=("senior_moderators",)),
    DemoAccount("billing@example.com", "billing admin", groups=("billing_admins",)),
    DemoAccount("admin@example.com", "superuser (operator)", superuser=True),
)


def demo_password() -> str:
    """IMAGEGATE_DEMO_PASSWORD, or a random one kept in var/ so that re-runs agree."""
    if settings.IMAGEGATE_DEMO_PASSWORD:
        return str(settings.IMAGEGATE_DEMO_PASSWORD)
    path = Path(settings.BASE_DIR) / "var" / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


@transaction.atomic
def seed_accounts(*, password: str) -> dict[str, User]:
    """Create or refresh the demo accounts; safe to run any number of times."""
    for name in STAFF_GROUPS:
        Group.objects.get_or_create(name=name)
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(email=account.email)
        user.set_password(password)
        user.date_of_birth = dt.date(1990, 1, 15)
        user.country = user.country or "DE"
        user.is_staff = account.is_staff_account
        user.is_superuser = account.superuser
        if account.age_verified and not user.is_age_verified:
            user.age_verification_status = AgeVerificationStatus.VERIFIED
            user.age_verified_at = timezone.now()
        user.save()
        if account.groups:
            user.groups.set(Group.objects.filter(name__in=account.groups))
        EmailAddress.objects.update_or_create(
            user=user, email=account.email, defaults={"verified": True, "primary": True}
        )
        if account.is_staff_account and settings.IMAGEGATE_DEMO_TOTP_SECRET:
            has_totp = Authenticator.objects.filter(
                user=user, type=Authenticator.Type.TOTP
            ).exists()
            if not has_totp:
                TOTP.activate(user, settings.IMAGEGATE_DEMO_TOTP_SECRET)
        users[account.email] = user
    return users
