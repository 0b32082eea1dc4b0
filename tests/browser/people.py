"""People for the journeys, made directly in the database (journey 1 signs up for real)."""

from __future__ import annotations

from typing import Any

from tests.accountability.fixtures import TOTP_SECRET, make_user
from tests.generation.conftest import make_adult, subscribe

__all__ = ["TOTP_SECRET", "make_staff", "make_subscriber"]


def make_subscriber(email: str, credits: int = 100) -> Any:
    user = make_adult(email)
    subscribe(user, credits=credits)
    return user


def make_staff(email: str, group: str) -> Any:
    """A staff member in ``group`` with TOTP enrolled (secret ``TOTP_SECRET``)."""
    return make_user(email, groups=(group,))
