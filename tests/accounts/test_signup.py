from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.age import local_today
from accounts.models import User


def _years_ago(years: int, *, tz: str = "UTC", days: int = 0) -> dt.date:
    today = local_today(time_zone=tz)
    try:
        born = today.replace(year=today.year - years)
    except ValueError:
        born = dt.date(today.year - years, 3, 1)
    return born + dt.timedelta(days=days)


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": "new.person@example.com",
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        "date_of_birth": _years_ago(30).isoformat(),
        "country": "DE",
        "region": "",
        "time_zone": "Europe/Berlin",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_signup_stores_profile_and_sends_verification_email(client: Client) -> None:
    response = client.post(
        "/accounts/signup/", _form(region="", country="JP", time_zone="Asia/Tokyo")
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert (user.country, user.region, user.time_zone) == ("JP", "", "Asia/Tokyo")
    assert user.date_of_birth == _years_ago(30)
    address = EmailAddress.objects.get(user=user)
    assert not address.verified
    assert len(mail.outbox) == 1
    # Mandatory verification: the account page is not reachable yet.
    assert client.get("/account/").status_code == 302


@pytest.mark.django_db
def test_signup_page_has_the_profile_fields(client: Client) -> None:
    content = client.get("/accounts/signup/").content.decode()
    for name in ("date_of_birth", "country", "region", "time_zone"):
        assert f'name="{name}"' in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "region", "age"),
    [("DE", "", 17), ("US", "US-MS", 20), ("US", "US-AL", 18), ("KR", "", 18)],
)
def test_under_age_signup_is_refused_and_nothing_is_kept(
    client: Client, country: str, region: str, age: int
) -> None:
    response = client.post(
        "/accounts/signup/",
        _form(country=country, region=region, date_of_birth=_years_ago(age, days=1).isoformat()),
    )
    assert response.status_code == 200
    assert "you must be at least" in response.content.decode()
    assert User.objects.count() == 0
    assert EmailAddress.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_on_the_18th_birthday_is_accepted(client: Client) -> None:
    response = client.post(
        "/accounts/signup/", _form(date_of_birth=_years_ago(18, tz="Europe/Berlin").isoformat())
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new.person@example.com").exists()


@pytest.mark.django_db
def test_signup_day_before_the_18th_birthday_is_refused(client: Client) -> None:
    born = _years_ago(18, tz="Europe/Berlin", days=1)
    response = client.post("/accounts/signup/", _form(date_of_birth=born.isoformat()))
    assert response.status_code == 200
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_signup_checks_age_in_the_declared_time_zone(client: Client) -> None:
    """Whoever turns 18 today where they live may sign up, even if UTC is a day behind."""
    now = timezone.now()
    ahead = "Pacific/Kiritimati"  # UTC+14
    born = _years_ago(18, tz=ahead)
    response = client.post(
        "/accounts/signup/", _form(date_of_birth=born.isoformat(), time_zone=ahead)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # The same date declared from UTC-10 may be a day short (unless both agree on today).
    behind = "Pacific/Honolulu"
    if local_today(time_zone=behind, now=now) != local_today(time_zone=ahead, now=now):
        response = client.post(
            "/accounts/signup/",
            _form(email="other@example.com", date_of_birth=born.isoformat(), time_zone=behind),
        )
        assert response.status_code == 200
        assert not User.objects.filter(email="other@example.com").exists()


@pytest.mark.django_db
def test_region_must_belong_to_the_country(client: Client) -> None:
    response = client.post("/accounts/signup/", _form(country="DE", region="US-AL"))
    assert response.status_code == 200
    assert User.objects.count() == 0
