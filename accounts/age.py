"""Age arithmetic, in the user's own time zone.

Rule for 29 February: a person born on 29 February becomes a year older on 1 March
in years without that day (the day after 28 February). Legal systems differ (some
count 28 February); 1 March is the later of the two, so a safety gate never treats
anyone as adult a day early.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from django.utils import timezone


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The user's zone; an unknown name (never stored by our forms) falls back to UTC."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_today(*, time_zone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the user is."""
    return (now or timezone.now()).astimezone(zone(time_zone)).date()


def age_on(*, date_of_birth: dt.date, today: dt.date) -> int:
    """Completed years on ``today``; the birthday itself counts (you are N on the day).

    Comparing (month, day) tuples gives the 1 March rule for 29 February birthdays:
    on 28 February of a common year (2, 28) < (2, 29), so the year is not complete yet.
    """
    years = today.year - date_of_birth.year
    if (today.month, today.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def age_in_zone(*, date_of_birth: dt.date, time_zone: str, now: dt.datetime | None = None) -> int:
    return age_on(date_of_birth=date_of_birth, today=local_today(time_zone=time_zone, now=now))
