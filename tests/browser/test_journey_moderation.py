"""Journeys 2–4: a blocked prompt and its statement; a held job through the console,
the user's appeal and a senior's reversal; two moderators racing for one item."""

from __future__ import annotations

import copy
import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.people import TOTP_SECRET, make_staff, make_subscriber
from tests.browser.support import PHONE, assert_accessible, shot

BLOCKED_PROMPT = "a gory decapitated corpse"
SAFE_PROMPT = "a watercolour lighthouse on a cliff at dusk"


def _generate(page: Any, prompt: str) -> None:
    page.goto("/studio/")
    page.fill("#id_prompt", prompt)
    page.select_option("#id_width", "256")
    page.select_option("#id_height", "256")
    page.fill("#id_steps", "4")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_load_state()


def test_blocked_prompt_explains_itself_and_can_be_appealed(open_page: Any) -> None:
    make_subscriber("blocked@example.com")
    page = open_page()
    log_in(page, "blocked@example.com")
    _generate(page, BLOCKED_PROMPT)

    answer = page.locator("#blocked-answer")
    expect(answer).to_be_visible()
    expect(answer.get_by_role("heading")).to_contain_text("graphic violence")
    expect(answer).to_contain_text("This added a strike")
    expect(answer).to_contain_text("Nothing was charged")
    # graphic violence weighs 2 and the cool-down starts at 3: the first block warns.
    expect(answer).to_contain_text("one more blocked prompt pauses generation for 24 hours")
    expect(page.locator("#id_prompt")).to_have_value(BLOCKED_PROMPT)
    recent = page.get_by_role("list", name="Recent generations and blocked prompts")
    expect(recent.get_by_text("Prompt blocked")).to_have_count(1)
    expect(recent.get_by_text(BLOCKED_PROMPT)).to_have_count(1)
    assert_accessible(page, "studio with a blocked prompt")
    shot(page, "journey2-01-blocked-prompt", key=True, full_page=True)

    # The second block starts the cool-down, with its end time.
    _generate(page, BLOCKED_PROMPT)
    expect(page.locator("#blocked-answer")).to_contain_text(
        re.compile(r"Generation is paused until \d+ \w+ \d{4}, \d\d:\d\d")
    )
    page.goto("/studio/")
    expect(page.get_by_text(re.compile("Generation is paused until"))).to_be_visible()

    page.goto("/account/statements/")
    expect(page.locator("main table tbody tr")).to_have_count(3)  # two blocks, one cool-down
    page.goto("/studio/")
    page.locator("#content .recent a", has_text="Statement of reasons").first.click()
    expect(page.get_by_role("heading", name="Statement of reasons")).to_be_visible()
    expect(page.locator("main dl")).to_contain_text(BLOCKED_PROMPT)
    page.fill("#appeal-text", "It is a horror-film prop, not a real body.")
    page.get_by_role("button", name="Send appeal").click()
    expect(page.locator("blockquote.appeal-text")).to_have_text(
        "It is a horror-film prop, not a real body."
    )
    assert_accessible(page, "statement with appeal")
    shot(page, "journey2-02-statement-appealed", key=True, full_page=True)


def _hold_every_image(senior: Any) -> None:
    """A senior tightens the image threshold so that every output waits for a human."""
    from moderation.policy import policy_current, policy_publish

    document = copy.deepcopy(policy_current().document)
    hold_all = {"allow": 0.0001, "block": 0.9999}
    document["images"]["nsfw"] = dict(hold_all)
    document["images"]["minor_escalation"]["nsfw"] = dict(hold_all)
    policy_publish(actor=senior, document=document, reason="Journey test: hold every image.")


def test_held_job_rejected_appealed_and_reversed_restores_image_and_credits(
    open_page: Any,
) -> None:
    from generation.models import GenerationJob

    user = make_subscriber("held@example.com")
    make_staff("moderator@example.com", "moderators")
    senior = make_staff("senior@example.com", "senior_moderators")
    _hold_every_image(senior)

    page = open_page()
    log_in(page, "held@example.com")
    _generate(page, SAFE_PROMPT)
    expect(page.get_by_text("waiting for a human moderator")).to_be_visible(timeout=90_000)
    job = GenerationJob.objects.get(user=user)
    assert job.status == "held_for_review"

    # The moderator (TOTP) claims it from the queue, reveals the image, rejects it.
    moderator = open_page()
    log_in(moderator, "moderator@example.com", totp_secret=TOTP_SECRET, check=True)
    moderator.goto("/moderation/queue/")
    assert_accessible(moderator, "queue")
    moderator.get_by_role("link", name=re.compile("Open")).first.click()
    moderator.get_by_role("button", name="Claim this item").click()
    reveal = moderator.get_by_role("button", name="Reveal image 1")
    reveal.click()
    expect(reveal).to_have_attribute("aria-pressed", "true")
    moderator.get_by_role("radio", name="Reject", exact=True).check()
    moderator.select_option("#reason-template", index=1)
    moderator.fill("#reason-text", "Graphic injury detail beyond what the policy allows.")
    assert_accessible(moderator, "item")
    shot(moderator, "journey3-01-console-item", key=True, full_page=True)
    moderator.get_by_role("button", name=re.compile("^Decide")).click()
    expect(moderator.locator("#decision")).to_contain_text("Decided")
    job.refresh_from_db()
    assert job.status == "blocked"

    # The user reads the statement (with the prompt) and appeals.
    page.goto("/account/statements/")
    assert_accessible(page, "statements")
    page.get_by_role("link", name=re.compile("Details")).first.click()
    expect(page.locator("main dl")).to_contain_text(SAFE_PROMPT)
    page.fill("#appeal-text", "A lighthouse is not graphic violence.")
    page.get_by_role("button", name="Send appeal").click()
    expect(page.locator("blockquote.appeal-text")).to_be_visible()

    # A senior who did not decide sees the appealed content and reverses.
    senior_page = open_page()
    log_in(senior_page, "senior@example.com", totp_secret=TOTP_SECRET)
    senior_page.goto("/moderation/appeals/")
    assert_accessible(senior_page, "appeals")
    senior_page.get_by_role("link", name="Open").first.click()
    content = senior_page.locator("#appealed-content")
    expect(content).to_contain_text(SAFE_PROMPT)
    expect(content.get_by_role("button", name="Reveal image 1")).to_be_visible()
    senior_page.get_by_role("radio", name=re.compile("^Reverse it")).check()
    reasons = senior_page.locator("#id_reason_template optgroup:not([hidden]) option")
    expect(reasons).to_have_count(3)  # only the reasons for a reversal
    senior_page.select_option("#id_reason_template", "mistaken")
    senior_page.get_by_role("radio", name=re.compile("^Uphold")).check()
    expect(senior_page.locator("#id_reason_template")).to_have_value("")  # no longer fits
    senior_page.get_by_role("radio", name=re.compile("^Reverse it")).check()
    senior_page.select_option("#id_reason_template", "mistaken")
    senior_page.fill("#id_reason_text", "The image shows a lighthouse; nothing violent.")
    assert_accessible(senior_page, "appeal")
    shot(senior_page, "journey3-02-appeal-ruling", key=True, full_page=True)
    senior_page.get_by_role("button", name="Rule").click()
    expect(senior_page.get_by_text("The appeal is decided")).to_be_visible()

    # The image appears and the credits are back.
    page.goto(f"/studio/jobs/{job.pk}/")
    expect(page.locator("h1 .badge").first).to_have_text("Succeeded")
    assert_accessible(page, "restored job")
    expect(page.locator("main .gallery img")).to_have_count(1)
    page.goto("/billing/")
    expect(page.locator("#credits-balance")).to_have_text("100")
    expect(page.locator("#credits-reserved")).to_have_text("0")


def test_two_moderators_race_for_one_item_and_the_loser_sees_why(open_page: Any) -> None:
    from accountability.models import ReviewItem
    from accountability.review import review_item_open

    owner = make_subscriber("raced@example.com")
    make_staff("first@example.com", "moderators")
    make_staff("second@example.com", "moderators")
    item = review_item_open(
        kind="prompt",
        subject_type="moderation.prompt",
        subject_id="race-1",
        user=owner,
        category="violence_graphic",
        severity=2,
        context={"prompt": "a knight with a bloody sword after the battle"},
    )
    first = open_page()
    log_in(first, "first@example.com", totp_secret=TOTP_SECRET)
    second = open_page(PHONE)
    log_in(second, "second@example.com", totp_secret=TOTP_SECRET)
    for page in (first, second):
        page.goto(f"/moderation/items/{item.pk}/")
    # The second moderator fills the form first but the first one claims the item.
    second.get_by_role("radio", name="Approve", exact=True).check()
    second.select_option("#reason-template", index=1)
    second.fill("#reason-text", "Historical battle scene.")
    first.get_by_role("button", name="Claim this item").click()
    expect(first.locator("#decision")).to_contain_text("Decision")
    second.get_by_role("button", name=re.compile("^Decide")).click()
    alert = second.locator("#decision [role=alert]")
    expect(alert).to_contain_text(re.compile(r"Claimed by first@example\.com (just now|.* ago)"))
    expect(second.locator("#decision")).to_contain_text("Held by first@example.com")
    assert_accessible(second, "item after losing the race (phone)")
    shot(second, "journey4-01-race-lost-phone", key=True)
    item.refresh_from_db()
    assert item.status == "claimed" and item.decision == ""
    assert ReviewItem.objects.filter(status="decided").count() == 0
