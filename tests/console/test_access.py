"""Every console page for every role: anonymous → login, non-moderators → 404 (the
console does not exist for them), moderators → moderator pages but 403 on senior pages,
seniors and superusers → everything."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accountability.appeals import appeal_create
from accountability.csam import csam_case_open
from accountability.models import AuditLogEntry, CsamCase, LegalHold, ReviewItem
from accountability.review import review_item_open
from accountability.statements import statement_create
from tests.accountability.fixtures import make_user

ROLES = ("anonymous", "subscriber", "billing_admin", "moderator", "senior", "superuser")


@pytest.fixture
def world(db, subscriber, billing_admin, moderator, senior, superuser):
    item = review_item_open(
        kind="output",
        subject_type="generation.job",
        subject_id="00000000-0000-0000-0000-000000000001",
        user=subscriber,
        category="violence_graphic",
        severity=3,
        context={"prompt": "a storm", "normalized_prompt": "a storm", "span": [2, 7]},
    )
    statement = statement_create(
        user=subscriber,
        subject_type="generation.job",
        subject_id="x",
        category="hate",
        decision="content_blocked",
        decision_ground="incompatible_content",
        facts="f",
        automated_detection=True,
        automated_decision=False,
        decided_by=moderator,
    )
    appeal = appeal_create(user=subscriber, statement_id=statement.pk, text="wrong")
    case = csam_case_open(user=make_user(), decision=None, evidence={"prompt": "redacted"})
    hold = LegalHold.objects.get(user=case.user)
    users = {
        "anonymous": None,
        "subscriber": subscriber,
        "billing_admin": billing_admin,
        "moderator": moderator,
        "senior": senior,
        "superuser": superuser,
    }
    return {"item": item, "appeal": appeal, "case": case, "hold": hold, "users": users}


MODERATOR_PAGES = [
    ("console:dashboard", lambda w: []),
    ("console:queue", lambda w: []),
    ("console:item", lambda w: [w["item"].pk]),
    ("console:reports", lambda w: []),
    ("console:users", lambda w: []),
    ("console:user", lambda w: [w["users"]["subscriber"].pk]),
]
SENIOR_PAGES = [
    ("console:appeals", lambda w: []),
    ("console:appeal", lambda w: [w["appeal"].pk]),
    ("console:legal-holds", lambda w: []),
    ("console:policy", lambda w: []),
    ("console:csam-cases", lambda w: []),
    ("console:csam-case", lambda w: [w["case"].pk]),
    ("console:csam-package", lambda w: [w["case"].pk]),
]
EXPECTED = {
    "anonymous": (302, 302),
    "subscriber": (404, 404),
    "billing_admin": (404, 404),
    "moderator": (200, 403),
    "senior": (200, 200),
    "superuser": (200, 200),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "args"), MODERATOR_PAGES + SENIOR_PAGES)
def test_every_console_page_for_every_role(world, client_for, role, name, args) -> None:
    url = reverse(name, args=args(world))
    response = client_for(world["users"][role]).get(url)
    moderator_status, senior_status = EXPECTED[role]
    expected = senior_status if (name, args) in SENIOR_PAGES else moderator_status
    assert response.status_code == expected, (role, name)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    if expected == 200:
        body = response.content.decode()
        assert "Traceback" not in body


@pytest.mark.parametrize("role", ["anonymous", "subscriber", "billing_admin", "moderator"])
def test_denied_posts_change_nothing(world, client_for, role) -> None:
    client = client_for(world["users"][role])
    audit_before = AuditLogEntry.objects.count()
    item, appeal, case, hold = world["item"], world["appeal"], world["case"], world["hold"]
    posts = [
        (reverse("console:appeal", args=[appeal.pk]),
         {"outcome": "reversed", "reason_template": "mistaken", "reason_text": "x"}),
        (reverse("console:legal-holds"), {"email": "subscriber-acc@example.com", "reason": "r"}),
        (reverse("console:legal-hold-release", args=[hold.pk]), {"reason": "r"}),
        (reverse("console:csam-case", args=[case.pk]), {"op": "report", "tip_number": "123"}),
    ]  # fmt: skip
    if role != "moderator":
        posts += [
            (reverse("console:item-decide", args=[item.pk]),
             {"action": "reject", "reason_template": "graphic", "reason_text": "x"}),
            (reverse("console:claim-next"), {}),
        ]  # fmt: skip
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (302, 403, 404), url
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
    appeal.refresh_from_db()
    case.refresh_from_db()
    hold.refresh_from_db()
    item.refresh_from_db()
    assert (appeal.status, case.status, hold.released_at, item.status) == (
        "open",
        "open",
        None,
        "open",
    )
    assert LegalHold.objects.count() == 1
    assert CsamCase.objects.get().tip_number == ""
    assert ReviewItem.objects.filter(status="claimed").count() == 0
    assert AuditLogEntry.objects.count() == audit_before


def test_staff_without_totp_are_sent_to_enrol(db, client_for) -> None:
    unenrolled = make_user("no-totp@example.com", groups=("moderators",), totp=False)
    response = client_for(unenrolled).get(reverse("console:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_the_senior_who_decided_sees_the_appeal_but_no_ruling_form(world, client_for) -> None:
    original = world["users"]["moderator"]
    original.groups.add(*world["users"]["senior"].groups.all())
    response = client_for(original).get(reverse("console:appeal", args=[world["appeal"].pk]))
    assert response.status_code == 200
    assert "another senior moderator must rule" in response.content.decode()
    assert 'name="outcome"' not in response.content.decode()
