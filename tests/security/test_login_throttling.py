"""Failed logins are throttled per account and per client IP, separately: one address
under attack does not lock out the other people behind the same IP."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from tests.accountability.fixtures import make_user

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _empty_rate_limits():
    cache.clear()
    yield
    cache.clear()


def login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_a_locked_account_does_not_lock_another_account_on_the_same_ip(db) -> None:
    victim = make_user("victim@example.com")
    neighbour = make_user("neighbour@example.com")
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [login(client, victim.email, "wrong").status_code for _ in range(15)]
    assert statuses[:5] == [200] * 5  # the form with "incorrect password"
    assert set(statuses[5:]) == {429}
    # The right password for the locked account is refused too, until the window ends.
    locked = login(client, victim.email, PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 60
    assert b"Too many failed login attempts" in locked.content
    # Same IP, another account: signs in.
    response = login(Client(REMOTE_ADDR="203.0.113.7"), neighbour.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_spraying_many_accounts_from_one_ip_throttles_that_ip_only(db) -> None:
    users = [make_user(f"sprayed{i}@example.com") for i in range(7)]
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    statuses = [login(attacker, u.email, "wrong").status_code for u in users for _ in range(3)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    # The attacker's IP is refused for an account it never tried...
    assert login(attacker, "someone-else@example.com", "x").status_code == 429
    # ...and someone on another IP signs in to a sprayed account.
    response = login(Client(REMOTE_ADDR="192.0.2.44"), users[0].email, PASSWORD)
    assert response.status_code == 302


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_client_ip_comes_from_x_forwarded_for(db) -> None:
    users = [make_user(f"proxied{i}@example.com") for i in range(7)]
    proxy = "10.0.0.1"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9")
    for user in users:
        for _ in range(3):
            login(attacker, user.email, "wrong")
    assert login(attacker, users[0].email, PASSWORD).status_code == 429
    # Another client through the same proxy (same REMOTE_ADDR) is not in that bucket.
    neighbour = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert login(neighbour, users[0].email, PASSWORD).status_code == 302
    # A forged, shorter chain is not a server error.
    assert login(Client(REMOTE_ADDR=proxy), users[1].email, PASSWORD).status_code == 302


def test_a_successful_login_does_not_count_as_a_failure(db) -> None:
    user = make_user("regular@example.com")
    for _ in range(10):
        assert login(Client(REMOTE_ADDR="192.0.2.1"), user.email, PASSWORD).status_code == 302
