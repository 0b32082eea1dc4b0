"""factory_boy factories for the accounts app."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group

from accounts.models import AgeVerificationStatus, User

PASSWORD = "a-long-test-password-7"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A member with a verified email address (pass ``email_verified=False`` to skip)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    date_of_birth = dt.date(1990, 5, 17)
    country = "DE"
    region = ""
    time_zone = "Europe/Berlin"

    @factory.post_generation
    def password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def email_verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            verified = True if extracted is None else bool(extracted)
            EmailAddress.objects.create(
                user=self, email=self.email, primary=True, verified=verified
            )

    @factory.post_generation
    def groups(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for name in extracted:
                group, _ = Group.objects.get_or_create(name=name)
                obj.groups.add(group)


class AdultFactory(UserFactory):
    """Email and age verified."""

    age_verification_status = AgeVerificationStatus.VERIFIED
    age_verified_at = factory.Faker("date_time_this_year", tzinfo=dt.UTC)


def enrol_totp(user: User, secret: str = TOTP_SECRET) -> None:
    TOTP.activate(user, secret)
