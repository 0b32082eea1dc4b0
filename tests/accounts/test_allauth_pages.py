from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/account/",
        "/account/api-keys/",
        "/account/delete/",
        "/account/age-verification/return/",
    ],
)
def test_signed_in_pages_render_in_the_site_layout(client: Client, path: str) -> None:
    client.force_login(UserFactory.create())
    response = client.get(path)
    assert response.status_code == 200
    assert b'class="site-header"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_public_pages_render_in_the_site_layout(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert b'class="site-header"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/account/", "/account/api-keys/", "/account/export/"])
def test_account_pages_need_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_failed_logins_are_rate_limited(client: Client) -> None:
    user = UserFactory.create()
    pages = [
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).content
        for _ in range(6)
    ]
    assert b"Too many failed login attempts" not in pages[0]
    assert b"Too many failed login attempts" in pages[-1]
    # Even the right password is refused while the limit holds.
    page = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert b"Too many failed login attempts" in page.content
    assert "_auth_user_id" not in client.session
