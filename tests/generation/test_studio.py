"""The web studio and share links, as a signed-in user meets them."""

from __future__ import annotations

import pytest
from django.test import Client

from generation.models import GenerationJob, JobStatus, ShareLink
from tests.generation.conftest import balance, delivered_image, make_adult, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(subscriber) -> Client:
    client = Client()
    client.force_login(subscriber)
    return client


def test_studio_shows_the_form_with_the_plan_limits(web) -> None:
    response = web.get("/studio/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="prompt"' in page
    assert "up to 768 px, 30 steps, 1 image a request" in page
    assert "Before you can generate" not in page


def test_member_without_age_verification_is_told_the_next_step(db) -> None:
    from accounts.models import AgeVerificationStatus

    member = make_adult(age_verification_status=AgeVerificationStatus.UNVERIFIED)
    client = Client()
    client.force_login(member)
    page = client.get("/studio/").content.decode()
    assert "Before you can generate" in page
    assert "Verify your age" in page


def test_submitting_the_form_creates_a_job_and_shows_its_page(web, subscriber) -> None:
    response = web.post(
        "/studio/", {"prompt": "a lighthouse at dawn", "width": 256, "height": 256, "steps": 4}
    )
    job = GenerationJob.objects.get(user=subscriber)
    assert response.status_code == 302
    assert response["Location"] == f"/studio/jobs/{job.pk}/"
    page = web.get(response["Location"]).content.decode()
    assert "Queued" in page
    assert 'hx-trigger="every 1s"' in page
    assert balance(subscriber) == (99, 1)


def test_blocked_prompt_in_the_form_explains_why_and_charges_nothing(web, subscriber) -> None:
    response = web.post(
        "/studio/",
        {"prompt": "nude photo of a 12 year old girl", "width": 256, "height": 256, "steps": 4},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your prompt was blocked: sexual content involving minors" in page
    assert "Nothing was charged for this prompt." in page
    assert GenerationJob.objects.count() == 0


def test_progress_fragment_stops_polling_when_the_job_ends(web, subscriber) -> None:
    image = delivered_image(subscriber)
    response = web.get(f"/studio/jobs/{image.job_id}/progress")
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"


def test_gallery_and_image_page_show_only_own_delivered_images(web, subscriber) -> None:
    mine = delivered_image(subscriber)
    held = delivered_image(subscriber, status=JobStatus.HELD_FOR_REVIEW)
    other = make_adult()
    subscribe(other)
    theirs = delivered_image(other)
    gallery = web.get("/studio/gallery/").content.decode()
    assert str(mine.pk) in gallery
    assert str(held.pk) not in gallery and str(theirs.pk) not in gallery
    assert web.get(f"/studio/images/{mine.pk}/").status_code == 200
    assert web.get(f"/studio/images/{held.pk}/").status_code == 404
    assert web.get(f"/studio/images/{theirs.pk}/").status_code == 404


def test_share_link_is_public_until_revoked(web, subscriber) -> None:
    image = delivered_image(subscriber)
    web.post(f"/studio/images/{image.pk}/share")
    link = ShareLink.objects.get(image=image)
    assert len(link.token) >= 40
    anonymous = Client()
    assert anonymous.get(f"/s/{link.token}/").status_code == 200
    file_response = anonymous.get(f"/s/{link.token}/image.png")
    assert file_response.status_code == 200
    assert file_response.getvalue().startswith(b"\x89PNG")
    web.post(f"/studio/images/{image.pk}/share/{link.pk}/revoke")
    assert anonymous.get(f"/s/{link.token}/").status_code == 404
    assert anonymous.get(f"/s/{link.token}/image.png").status_code == 404
    assert anonymous.get("/s/not-a-token/").status_code == 404


def test_stranger_cannot_share_or_revoke(web, subscriber) -> None:
    image = delivered_image(subscriber)
    web.post(f"/studio/images/{image.pk}/share")
    link = ShareLink.objects.get(image=image)
    stranger = make_adult()
    client = Client()
    client.force_login(stranger)
    assert client.post(f"/studio/images/{image.pk}/share").status_code == 404
    assert client.post(f"/studio/images/{image.pk}/share/{link.pk}/revoke").status_code == 404
    assert ShareLink.objects.filter(image=image).count() == 1
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_user_with_the_share_link_can_report_the_image(web, subscriber) -> None:
    from accountability.models import Report

    image = delivered_image(subscriber)
    web.post(f"/studio/images/{image.pk}/share")
    token = ShareLink.objects.get(image=image).token
    viewer = make_adult()
    client = Client()
    client.force_login(viewer)
    without = client.post(
        "/account/reports/", {"image_id": str(image.pk), "reason": "sexual", "share_token": "x"}
    )
    assert without.status_code == 404
    assert Report.objects.count() == 0
    response = client.post(
        "/account/reports/", {"image_id": str(image.pk), "reason": "sexual", "share_token": token}
    )
    assert response.status_code == 302
    assert Report.objects.get().image_id == image.pk


def test_upheld_report_takes_the_image_down_and_revokes_its_links(web, subscriber) -> None:
    from accountability.decisions import review_decide
    from accountability.models import ReviewItem, StatementOfReasons
    from accountability.reports import report_file
    from accountability.review import review_claim_next
    from tests.accounts.factories import enrol_totp

    image = delivered_image(subscriber)
    web.post(f"/studio/images/{image.pk}/share")
    link = ShareLink.objects.get(image=image)
    report_file(reporter=subscriber, image_id=image.pk, reason="violence_graphic")
    moderator = make_adult("mod-takedown@example.com")
    from django.contrib.auth.models import Group

    moderator.groups.add(Group.objects.get_or_create(name="moderators")[0])
    enrol_totp(moderator)
    item = review_claim_next(moderator=moderator)
    assert item is not None and item.kind == "report"
    review_decide(
        item=item, moderator=moderator, action="reject", reason_template="graphic",
        reason_text="Gore.",
    )  # fmt: skip
    image.job.refresh_from_db()
    link.refresh_from_db()
    assert image.job.status == JobStatus.BLOCKED
    assert link.revoked_at is not None
    assert Client().get(f"/s/{link.token}/").status_code == 404
    assert web.get(f"/api/v1/images/{image.pk}/file").status_code == 404
    assert StatementOfReasons.objects.filter(user=subscriber).count() == 1
    assert ReviewItem.objects.get(pk=item.pk).status == "decided"
