from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.age import age_in_zone, age_on, local_today


def test_birthday_today_counts() -> None:
    assert age_on(date_of_birth=dt.date(2008, 6, 1), today=dt.date(2026, 6, 1)) == 18


def test_day_before_birthday_is_still_younger() -> None:
    assert age_on(date_of_birth=dt.date(2008, 6, 1), today=dt.date(2026, 5, 31)) == 17


@pytest.mark.parametrize(
    ("today", "age"),
    [
        (dt.date(2026, 2, 28), 17),  # common year: not yet on 28 February
        (dt.date(2026, 3, 1), 18),  # ... but on 1 March
        (dt.date(2028, 2, 28), 19),
        (dt.date(2028, 2, 29), 20),  # leap year: on the day itself
    ],
)
def test_born_on_29_february_turns_older_on_1_march_in_common_years(today, age) -> None:
    assert age_on(date_of_birth=dt.date(2008, 2, 29), today=today) == age


def test_age_is_computed_in_the_users_time_zone() -> None:
    # 23:30 UTC on 31 May is already 1 June in Tokyo, still 31 May in New York.
    now = dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC)
    born = dt.date(2008, 6, 1)
    assert age_in_zone(date_of_birth=born, time_zone="Asia/Tokyo", now=now) == 18
    assert age_in_zone(date_of_birth=born, time_zone="America/New_York", now=now) == 17
    assert age_in_zone(date_of_birth=born, time_zone="UTC", now=now) == 17


def test_unknown_time_zone_falls_back_to_utc() -> None:
    now = dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC)
    assert local_today(time_zone="Mars/Olympus", now=now) == dt.date(2026, 5, 31)


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    years=st.integers(min_value=0, max_value=100),
)
def test_age_increases_exactly_on_the_anniversary(born: dt.date, years: int) -> None:
    try:
        anniversary = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year: the anniversary is 1 March
        anniversary = dt.date(born.year + years, 3, 1)
    assert age_on(date_of_birth=born, today=anniversary) == years
    if years:
        assert age_on(date_of_birth=born, today=anniversary - dt.timedelta(days=1)) == years - 1
