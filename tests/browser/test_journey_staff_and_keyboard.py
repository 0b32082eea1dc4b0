"""Journeys 5 and 6: a billing admin adjusts credits in Django admin and cannot open the
console; the studio and the console used with the keyboard alone, checked with axe on
desktop and phone; single-key shortcuts can be turned off (WCAG 2.1.4)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.people import TOTP_SECRET, make_held_job, make_staff, make_subscriber
from tests.browser.support import PHONE, assert_accessible, shot


def test_billing_admin_adjusts_credits_with_a_reason_and_cannot_open_the_console(
    open_page: Any,
) -> None:
    from billing.credits import credits_balance
    from billing.models import CreditLedgerEntry

    customer = make_subscriber("customer@example.com", credits=10)
    make_staff("billing@example.com", "billing_admins")
    page = open_page()
    log_in(page, "billing@example.com", totp_secret=TOTP_SECRET)
    page.goto("/admin/")
    assert_accessible(page, "admin index")
    page.goto("/admin/billing/creditaccount/")
    page.locator("tr", has_text="customer@example.com").locator("input.action-select").check()
    page.select_option("select[name=action]", "adjust_credits")
    page.locator("button[name=index]").first.click()
    page.fill("input[name=amount]", "25")
    page.fill("textarea[name=reason]", "Goodwill: a failed render the customer reported.")
    assert_accessible(page, "admin adjust credits")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Adjusted 1 account(s).")).to_be_visible()
    assert credits_balance(user=customer).balance == 35
    entry = CreditLedgerEntry.objects.filter(user=customer).order_by("-created_at").first()
    assert entry is not None and entry.amount == 25
    assert entry.reason == "Goodwill: a failed render the customer reported."
    shot(page, "journey5-01-admin-credits", key=True)

    response = page.goto("/moderation/")
    assert response is not None and response.status == 404
    response = page.goto("/moderation/queue/")
    assert response is not None and response.status == 404


def test_studio_by_keyboard_alone_with_enter_submitting_the_prompt(open_page: Any) -> None:
    from generation.models import GenerationJob

    make_subscriber("keys@example.com")
    first = open_page()
    log_in(first, "keys@example.com")
    for viewport, label in ((None, "desktop"), (PHONE, "phone")):
        page = first if viewport is None else open_page(viewport, signed_in_as=first)
        page.goto("/studio/")
        expect(page.locator("#id_prompt")).to_be_focused()
        assert_accessible(page, f"studio ({label})")
        if label == "phone":
            header = page.locator(".site-header").bounding_box()
            assert header is not None and header["height"] <= 0.12 * PHONE["height"], header
            menu = page.get_by_role("button", name="Menu")
            expect(page.get_by_role("link", name="Pricing")).to_be_hidden()
            menu.focus()
            page.keyboard.press("Enter")
            expect(menu).to_have_attribute("aria-expanded", "true")
            expect(page.get_by_role("link", name="Pricing")).to_be_visible()
            assert_accessible(page, "studio with the menu open (phone)")
            shot(page, "journey6-02-phone-menu", key=True)
            page.keyboard.press("Enter")
            generate = page.get_by_role("button", name="Generate").bounding_box()
            assert generate is not None and generate["y"] + generate["height"] <= PHONE["height"]
        page.locator("#id_prompt").focus()
        page.keyboard.type("a lighthouse at dusk, ")
        page.keyboard.press("Shift+Enter")
        page.keyboard.type("in watercolour")
        expect(page.locator("#id_prompt")).to_have_value("a lighthouse at dusk, \nin watercolour")
        page.keyboard.press("Tab")  # to the Generate button, right after the prompt
        expect(page.get_by_role("button", name="Generate")).to_be_focused()
        page.locator("#id_prompt").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/studio/jobs/"))
        assert_accessible(page, f"job ({label})")
        shot(page, f"journey6-01-job-{label}", key=label == "phone")
    assert GenerationJob.objects.filter(user__email="keys@example.com").count() == 2


def test_console_by_keyboard_alone_and_shortcuts_can_be_turned_off(open_page: Any) -> None:
    from accountability.models import ReviewItem

    owner = make_subscriber("kb-owner@example.com")
    make_staff("kb-moderator@example.com", "moderators")
    held = [make_held_job(owner, f"a knight with a bloody sword, take {n}") for n in range(2)]
    first = open_page()
    log_in(first, "kb-moderator@example.com", totp_secret=TOTP_SECRET)
    for viewport, label in ((None, "desktop"), (PHONE, "phone")):
        page = first if viewport is None else open_page(viewport, signed_in_as=first)
        page.goto("/moderation/")
        assert_accessible(page, f"dashboard ({label})")
        shot(page, f"journey6-03-dashboard-{label}", key=True, full_page=label == "desktop")
        page.goto("/moderation/queue/")
        assert_accessible(page, f"queue ({label})")
        if label == "phone":
            link = page.get_by_role("link", name=re.compile("^Open")).first.bounding_box()
            assert link is not None and link["x"] + link["width"] <= PHONE["width"], link
            shot(page, "journey6-04-queue-phone", key=True)

    page = first
    page.goto("/moderation/queue/")
    page.keyboard.press("n")  # claim next
    expect(page).to_have_url(re.compile(r"/moderation/items/\d+/"))
    page.keyboard.press("r")  # reject; focus moves to the reason
    expect(page.locator("#reason-template")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Blood and gore beyond what the policy allows.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#decision")).to_contain_text("Decided")
    expect(page.get_by_role("button", name=re.compile("Claim next"))).to_have_count(2)
    assert ReviewItem.objects.filter(status="decided", decision="reject").count() == 1

    # Turn single-key shortcuts off: "n" does nothing now, and the hints disappear.
    page.get_by_label("Single-key shortcuts").uncheck()
    expect(page.locator(".console-nav kbd.shortcut-hint")).to_be_hidden()
    url = page.url
    page.locator("body").focus()
    page.keyboard.press("n")
    page.wait_for_timeout(500)
    assert page.url == url
    page.reload()
    expect(page.get_by_label("Single-key shortcuts")).not_to_be_checked()
    assert ReviewItem.objects.filter(status="open").count() == 1
    for job, _item in held:
        job.refresh_from_db()
    assert sorted(job.status for job, _item in held) == ["blocked", "held_for_review"]


def test_report_item_puts_the_image_and_the_reporters_words_first(open_page: Any) -> None:
    from accountability.reports import report_file
    from generation.models import GeneratedImage, GenerationJob

    owner = make_subscriber("owner@example.com")
    reporter = make_subscriber("reporter@example.com")
    make_staff("rep-moderator@example.com", "moderators")
    job = GenerationJob.objects.create(
        user=owner, status="succeeded", prompt="a portrait of my neighbour", model_id="tiny-test",
        width=256, height=256, steps=4, guidance_scale=7.0, seed=1, credits_reserved=1,
    )  # fmt: skip
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 140, 160)).save(buffer, format="PNG")
    key = default_storage.save("browser-tests/reported.png", ContentFile(buffer.getvalue()))
    image = GeneratedImage.objects.create(
        job=job, index=0, width=256, height=256, sha256="0" * 64, storage_key=key
    )
    from generation.services import share_link_create

    link = share_link_create(user=owner, image=image)
    report_file(
        reporter=reporter,
        image_id=image.pk,
        reason="nonconsensual",
        details="This is my photo, edited without my consent.",
        share_token=link.token,
    )
    page = open_page(PHONE)
    log_in(page, "rep-moderator@example.com", totp_secret=TOTP_SECRET)
    page.goto("/moderation/reports/")
    page.get_by_role("link", name="Review").first.click()
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:3] == ["Images", "Reports (1)", "Prompt"], headings
    expect(page.locator("#reports")).to_contain_text("This is my photo, edited without my consent.")
    expect(page.locator("details.debug")).not_to_have_attribute("open", "")
    decision = page.locator("#decision").bounding_box()
    debug = page.locator("details.debug").bounding_box()
    assert decision is not None and debug is not None and decision["y"] < debug["y"]
    assert_accessible(page, "report item (phone)")
    shot(page, "journey6-05-report-item-phone", key=True, full_page=True)
