from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from accounts.permissions import staff_mfa_required
from tests.accounts.factories import UserFactory, enrol_totp

STAFF_GROUPS = ["moderators", "senior_moderators", "billing_admins"]
ENROL = "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
@pytest.mark.parametrize("group", STAFF_GROUPS)
@pytest.mark.parametrize("path", ["/moderation/", "/admin/"])
def test_staff_without_totp_are_sent_to_enrol(client: Client, group: str, path: str) -> None:
    client.force_login(UserFactory.create(groups=[group], is_staff=True))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ENROL


@pytest.mark.django_db
def test_superuser_without_totp_is_sent_to_enrol(client: Client) -> None:
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    assert client.get("/admin/")["Location"] == ENROL


@pytest.mark.django_db
@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_staff_api_without_totp_is_403(client: Client, group: str) -> None:
    client.force_login(UserFactory.create(groups=[group]))
    response = client.get("/api/v1/moderation/queue")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_staff_with_totp_pass_the_mfa_check(client: Client, group: str) -> None:
    user = UserFactory.create(groups=[group], is_staff=True)
    enrol_totp(user)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.get("Location") != ENROL


@pytest.mark.django_db
def test_members_are_not_asked_for_mfa(client: Client) -> None:
    client.force_login(UserFactory.create())
    response = client.get("/admin/")
    assert response.get("Location", "").startswith("/admin/login/")


@pytest.mark.django_db
def test_enrolment_page_itself_is_reachable(client: Client) -> None:
    client.force_login(UserFactory.create(groups=["moderators"]))
    assert client.get(ENROL).status_code in (200, 302)
    assert client.get(ENROL).get("Location", "") != ENROL


@pytest.mark.django_db
@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_decorator_refuses_staff_without_totp(rf: RequestFactory, group: str) -> None:
    @staff_mfa_required
    def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.get("/moderation/queue/")
    request.user = UserFactory.create(groups=[group])
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    assert page(request).status_code == 302
    enrol_totp(request.user)
    assert page(request).status_code == 200
    api_request = rf.get("/api/v1/moderation/queue")
    api_request.user = UserFactory.create(groups=[group])
    assert page(api_request).status_code == 403


@pytest.mark.django_db
def test_login_of_an_enrolled_user_asks_for_the_code(client: Client) -> None:
    from tests.accounts.factories import PASSWORD

    user = UserFactory.create(groups=["moderators"])
    enrol_totp(user)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
