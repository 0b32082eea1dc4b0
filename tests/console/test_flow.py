from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accountability.appeals import appeal_create
from accountability.csam import csam_case_open
from accountability.models import (
    Appeal,
    AuditLogEntry,
    CsamCase,
    LegalHold,
    ReviewItem,
    StatementOfReasons,
)
from accountability.review import review_item_open
from accountability.statements import statement_create
from tests.accountability.fixtures import balance, make_held_job, make_user


def _item_for(job) -> ReviewItem:
    return review_item_open(
        kind="output",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=job.user,
        category="violence_graphic",
        severity=3,
        context={
            "prompt": job.prompt,
            "normalized_prompt": "a lighthouse at dusk",
            "span": [2, 12],
            "scores": {"classifier": {"violence_graphic": 0.61}},
        },
    )


def test_claim_next_then_reject_without_a_reload(subscriber, moderator, client_for) -> None:
    job = make_held_job(subscriber, credits=4)
    item = _item_for(job)
    client = client_for(moderator)
    claimed = client.post(reverse("console:claim-next"), HTTP_HX_REQUEST="true")
    assert claimed.status_code == 204
    assert claimed["HX-Redirect"] == reverse("console:item", args=[item.pk])
    page = client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert "<mark>lighthouse</mark>" in page
    assert 'class="blurred"' in page
    assert 'data-shortcut="a"' in page and 'data-shortcut="s"' in page
    assert "0.61" in page
    assert 'hx-post="/moderation/items/' in page
    response = client.post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "reject", "reason_template": "graphic", "reason_text": "Gore."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "<h2>Decided</h2>" in response.content.decode()
    assert "<html" not in response.content.decode()
    job.refresh_from_db()
    assert job.status == "blocked"
    assert balance(subscriber) == (10, 0)
    assert StatementOfReasons.objects.get().facts.endswith("Gore.")


def test_an_invalid_decision_answers_the_form_and_changes_nothing(
    subscriber, moderator, client_for
) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    response = client_for(moderator).post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "reject", "reason_template": "within_policy", "reason_text": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    job.refresh_from_db()
    item.refresh_from_db()
    assert (job.status, item.status) == ("held_for_review", "open")
    assert StatementOfReasons.objects.count() == 0


def test_the_console_has_no_ban_for_moderators_and_refuses_one(
    subscriber, moderator, client_for
) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    client = client_for(moderator)
    assert 'value="ban"' not in client.get(reverse("console:item", args=[item.pk])).content.decode()
    response = client.post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "ban", "reason_template": "severe", "reason_text": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.account_state == "active"


def _appealed(subscriber, decider):
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
        decided_by=decider,
    )
    return appeal_create(user=subscriber, statement_id=statement.pk, text="wrong")


def test_a_senior_cannot_rule_on_an_appeal_of_their_own_decision(
    subscriber, senior, senior2, client_for
) -> None:
    appeal = _appealed(subscriber, senior)
    data = {"outcome": "upheld", "reason_template": "policy_confirmed", "reason_text": "ok"}
    refused = client_for(senior).post(reverse("console:appeal", args=[appeal.pk]), data)
    assert refused.status_code == 403
    appeal.refresh_from_db()
    assert (appeal.status, appeal.ruled_by) == ("open", None)
    ruled = client_for(senior2).post(reverse("console:appeal", args=[appeal.pk]), data)
    assert ruled.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.ruled_by) == ("decided", "upheld", senior2)
    assert Appeal.objects.count() == 1


def test_csam_package_is_cybertipline_shaped_and_its_export_audited(senior, client_for) -> None:
    offender = make_user("offender@example.com")
    case = csam_case_open(
        user=offender,
        decision=None,
        evidence={
            "prompt": "[redacted test prompt]",
            "ip_hash": "abc",
            "hashes": [{"algorithm": "SHA256", "value": "f" * 64, "file_name": "a.png"}],
            "times": {"submitted_at": "2026-01-01T00:00:00+00:00"},
        },
    )
    response = client_for(senior).get(reverse("console:csam-package", args=[case.pk]))
    assert response.status_code == 200
    package = json.loads(response.content)
    report = package["report"]
    assert set(report) >= {"incidentSummary", "reporter", "personOrUserReported", "uploadedFiles"}
    assert report["personOrUserReported"]["email"] == ["offender@example.com"]
    assert report["uploadedFiles"][0]["originalFileHash"][0]["value"] == "f" * 64
    assert package["case"]["status"] == "open"
    assert AuditLogEntry.objects.filter(action="csam_case.export").count() == 1
    client_for(senior).post(
        reverse("console:csam-case", args=[case.pk]), {"op": "report", "tip_number": "TIP-42"}
    )
    case.refresh_from_db()
    assert (case.status, case.tip_number) == ("reported", "TIP-42")
    assert CsamCase.objects.count() == 1


def test_dashboard_embeds_chart_data(moderator, client_for, subscriber) -> None:
    job = make_held_job(subscriber)
    _item_for(job)
    response = client_for(moderator).get(reverse("console:dashboard"))
    page = response.content.decode()
    assert "chart.umd.min.js" in page
    start = page.index('id="dashboard-metrics"')
    data = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert data["pending_total"] == 1
    # Most urgent first, in words; categories as people read them; a table beside each.
    assert data["queue_by_priority"]["labels"] == ["critical", "high", "normal", "low"]
    assert data["queue_by_priority"]["values"] == [0, 0, 1, 0]
    assert data["queue_by_category"] == {
        "keys": ["violence_graphic"],
        "labels": ["graphic violence"],
        "values": [1],
    }
    assert '<th scope="row">graphic violence</th><td>1</td>' in page
    assert len(data["block_rate"]["labels"]) == 30
    assert data["pending_senior"] == 0 and "for senior moderators only" not in page


def test_the_dashboard_says_how_many_pending_items_are_for_seniors_only(
    moderator, client_for, subscriber
) -> None:
    """The dashboard counts the whole queue (as /metrics does); an ordinary moderator's
    own queue leaves out what only seniors decide, so the count of those is beside it."""
    _item_for(make_held_job(subscriber))
    _minor_item(make_held_job(subscriber, stage="prompt"))
    client = client_for(moderator)
    page = client.get(reverse("console:dashboard")).content.decode()
    assert '<p class="big">2</p><p class="muted">of which 1 for senior moderators only</p>' in page
    queue = client.get(reverse("console:queue")).content.decode()
    assert queue.count('<span class="sr-only"> item ') == 1


def test_user_lookup_shows_a_timeline(moderator, subscriber, client_for) -> None:
    make_held_job(subscriber)
    client = client_for(moderator)
    found = client.get(reverse("console:users"), {"q": "subscriber-acc"}).content.decode()
    assert reverse("console:user", args=[subscriber.pk]) in found
    page = client.get(reverse("console:user", args=[subscriber.pk])).content.decode()
    assert "Generation held_for_review: a lighthouse at dusk" in page


def test_seniors_publish_a_new_policy_version_and_moderators_cannot(
    senior, moderator, client_for
) -> None:
    policy = pytest.importorskip("moderation.policy")
    from moderation.models import PolicyVersion

    current = policy.policy_current()
    before = PolicyVersion.objects.count()
    page = client_for(senior).get(reverse("console:policy"))
    assert page.status_code == 200
    document = dict(current.document)
    url = reverse("console:policy")
    denied = client_for(moderator).post(url, {"document": json.dumps(document), "reason": "x"})
    assert denied.status_code == 403
    broken = client_for(senior).post(url, {"document": "{not json", "reason": "x"})
    assert broken.status_code == 400 and "not valid JSON" in broken.content.decode()
    invalid = client_for(senior).post(url, {"document": "{}", "reason": "x"})
    assert invalid.status_code == 400 and "categories: missing" in invalid.content.decode()
    unsafe_context = json.loads(json.dumps(document))
    unsafe_context["rules"]["groups"]["context_support"]["softens"] = ["sexual_minors"]
    refused = client_for(senior).post(url, {"document": json.dumps(unsafe_context), "reason": "x"})
    assert refused.status_code == 400
    assert "cannot soften &#x27;sexual_minors&#x27;" in refused.content.decode()
    assert PolicyVersion.objects.count() == before
    published = client_for(senior).post(
        url, {"document": json.dumps(document), "reason": "Tighten hate thresholds"}
    )
    assert published.status_code == 302
    newest = PolicyVersion.objects.order_by("-number").first()
    assert newest is not None and newest.number == current.number + 1
    assert newest.reason == "Tighten hate thresholds"
    assert AuditLogEntry.objects.filter(action="moderation.policy_publish").count() == 1


def _minor_item(job) -> ReviewItem:
    """A prompt the classifier alone read as sexual_minors, held (not locked)."""
    return review_item_open(
        kind="prompt",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=job.user,
        category="sexual_minors",
        severity=5,
        context={
            "prompt": job.prompt,
            "layer": "classifier",
            "scores": {"classifier": {"sexual": 0.93}},
        },
    )


def test_a_held_sexual_minors_item_is_for_seniors_and_their_reject_locks_the_account(
    subscriber, moderator, senior, client_for
) -> None:
    job = make_held_job(subscriber, stage="prompt")
    item = _minor_item(job)
    assert item.requires_senior is True
    decide = reverse("console:item-decide", args=[item.pk])
    reject = {
        "action": "reject",
        "reason_template": "sexualises_minor",
        "reason_text": "A child described in a sexual pose.",
    }
    ordinary = client_for(moderator)
    assert ordinary.get(reverse("console:item", args=[item.pk])).status_code == 404
    assert ordinary.post(decide, reject, HTTP_HX_REQUEST="true").status_code == 404
    item.refresh_from_db()
    subscriber.refresh_from_db()
    assert (item.status, subscriber.account_state) == ("open", "active")

    client = client_for(senior)
    page = client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert "Rejecting this item locks the account" in page
    assert '<span class="badge warn">seniors only</span>' in page
    response = client.post(decide, reject, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    job.refresh_from_db()
    subscriber.refresh_from_db()
    assert job.status == "blocked"
    assert balance(subscriber) == (10, 0)
    assert subscriber.account_state == "suspended"
    assert LegalHold.objects.filter(user=subscriber, released_at__isnull=True).count() == 1
    case = CsamCase.objects.get(user=subscriber)
    assert case.evidence["confirmed_by"] == str(senior.pk)
    assert case.evidence["review_item_id"] == str(item.pk)
    assert case.evidence["context"]["prompt"] == job.prompt
    statement = StatementOfReasons.objects.get(user=subscriber)
    assert (statement.category, statement.decision_account) == ("sexual_minors", "suspended")
    assert statement.decision_ground == "illegal_content"
    assert AuditLogEntry.objects.filter(action="csam_case.open").count() == 1


def test_a_seniors_only_item_offers_no_escalation_and_refuses_one(
    subscriber, senior, client_for
) -> None:
    """Escalating hands an item to seniors; one that is theirs already (held in a
    category only seniors decide) is not offered it, and a posted one is refused with
    a 409 that says why, leaving the item as it was."""
    job = make_held_job(subscriber, stage="prompt")
    item = _minor_item(job)
    client = client_for(senior)
    page = client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert 'value="reject"' in page and 'value="escalate"' not in page
    response = client.post(
        reverse("console:item-decide", args=[item.pk]),
        {"action": "escalate", "reason_template": "possible_minor", "reason_text": "Unsure."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "already for senior moderators only" in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.requires_senior, item.decision) == ("open", True, "")
    assert not AuditLogEntry.objects.filter(action="review.escalate").exists()


def test_a_senior_who_approves_a_held_sexual_minors_item_locks_nothing(
    subscriber, senior, client_for
) -> None:
    job = make_held_job(subscriber, stage="prompt")
    item = _minor_item(job)
    response = client_for(senior).post(
        reverse("console:item-decide", args=[item.pk]),
        {
            "action": "approve",
            "reason_template": "false_positive",
            "reason_text": "A family beach scene; nothing sexual.",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    job.refresh_from_db()
    subscriber.refresh_from_db()
    assert job.status == "queued"
    assert subscriber.account_state == "active"
    assert not CsamCase.objects.exists()
    assert not LegalHold.objects.exists()
