"""Console feedback (issue 16): refused decisions answer with a message htmx shows, and
the policy editor previews a diff before anything is published."""

from __future__ import annotations

import copy
import json

import pytest
from django.urls import reverse

from accountability.models import ReviewItem
from accountability.review import review_claim
from tests.accountability.fixtures import make_held_job
from tests.console.test_flow import _item_for


def test_a_decision_on_an_item_another_moderator_holds_says_who_and_changes_nothing(
    moderator, moderator2, subscriber, client_for
) -> None:
    item = _item_for(make_held_job(subscriber))
    review_claim(item=item, moderator=moderator2)
    response = client_for(moderator).post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "approve", "reason_template": "within_policy", "reason_text": "Fine."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "Claimed by moderator2-acc@example.com just now; your decision was not saved." in page
    assert "Held by moderator2-acc@example.com" in page
    assert 'id="decision-form"' not in page  # nothing left to submit against their claim
    item.refresh_from_db()
    assert item.status == "claimed" and item.claimed_by == moderator2 and item.decision == ""


def test_a_decision_without_a_reason_answers_400_with_the_form_and_a_message(
    moderator, subscriber, client_for
) -> None:
    item = _item_for(make_held_job(subscriber))
    response = client_for(moderator).post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "approve", "reason_template": "", "reason_text": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose an action, a reason from the list, and explain." in page
    assert 'id="decision-form"' in page
    assert ReviewItem.objects.get(pk=item.pk).status == "open"


def test_policy_preview_shows_the_changed_lines_and_publishes_nothing(senior, client_for) -> None:
    policy = pytest.importorskip("moderation.policy")
    from moderation.models import PolicyVersion

    current = policy.policy_current()
    before = PolicyVersion.objects.count()
    document = copy.deepcopy(current.document)
    document["strikes"]["cooldown_hours"] = 48
    response = client_for(senior).post(
        reverse("console:policy"),
        {"document": json.dumps(document), "reason": "Longer cool-downs", "preview": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<span class="diff-line removed">−     &quot;cooldown_hours&quot;: 24,</span>' in page
    assert '<span class="diff-line added">+     &quot;cooldown_hours&quot;: 48,</span>' in page
    assert PolicyVersion.objects.count() == before
