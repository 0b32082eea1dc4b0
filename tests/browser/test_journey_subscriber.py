"""Journey 1: a visitor signs up, confirms the email, verifies age through the offline
Identity stand-in, subscribes through the offline Checkout, generates, watches the
progress bar reach 100 %, downloads the image and finds it in the gallery."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.support import PASSWORD, PHONE, assert_accessible, last_mail_link, shot

EMAIL = "new-visitor@example.com"


def test_visitor_signs_up_verifies_subscribes_generates_and_downloads(
    open_page: Any, site: str, tmp_path: Any
) -> None:
    page = open_page()
    page.goto("/")
    assert_accessible(page, "landing")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_date_of_birth", "1990-05-17")
    page.select_option("#id_country", "DE")
    assert_accessible(page, "sign-up")
    shot(page, "journey1-01-signup")
    page.click("main form button[type=submit]")
    expect(page.get_by_role("heading", name=re.compile("Verify Your Email", re.I))).to_be_visible()

    # The confirmation link in the mail the site sent (locmem outbox of this process).
    page.goto(last_mail_link())
    assert_accessible(page, "confirm email")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        log_in(page, EMAIL)
    page.goto("/account/")
    expect(page.locator("#h-email ~ p .badge").first).to_have_text("verified")
    assert_accessible(page, "account")

    # Age verification: the offline Identity stand-in, then the webhook on the worker.
    page.get_by_role("button", name="Verify age").click()
    expect(page).to_have_url(re.compile(r"/accounts/identity/offline/"))
    assert page.url.startswith(site), "the stand-in must stay on this site's own host"
    shot(page, "journey1-02-identity-stand-in")
    assert_accessible(page, "identity stand-in")
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile(r"/account/age-verification/return"))
    for _ in range(40):
        if page.get_by_text("Your age is verified").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.get_by_text("Your age is verified")).to_be_visible()

    # Offline Checkout: pay, then "activating…" until the webhook lands, then the plan.
    page.goto("/pricing/")
    assert_accessible(page, "pricing")
    page.get_by_role("button", name=re.compile("Subscribe to Premium")).first.click()
    expect(page).to_have_url(re.compile(r"/billing/offline/checkout/"))
    assert page.url.startswith(site)
    assert_accessible(page, "checkout stand-in")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page).to_have_url(re.compile(r"/billing/\?checkout=success"))
    assert page.url.startswith(site)
    if page.get_by_text("activating…").count():  # unless the webhook was quicker
        expect(page.get_by_role("button", name=re.compile("Subscribe to"))).to_have_count(0)
        shot(page, "journey1-03-billing-after-pay", key=True)
    expect(page.locator("#plan-name")).to_have_text("Premium", timeout=60_000)  # no reload
    expect(page.locator("#credits-balance")).not_to_have_text("0")
    expect(page.get_by_role("button", name=re.compile("Subscribe to"))).to_have_count(0)
    assert_accessible(page, "billing")

    # Generate in the studio; Enter in the prompt submits it.
    page.goto("/studio/")
    expect(page.locator("#id_prompt")).to_be_focused()
    assert_accessible(page, "studio")
    shot(page, "journey1-04-studio", key=True)
    page.fill("#id_prompt", "a watercolour lighthouse on a cliff at dusk")
    page.select_option("#id_width", "256")
    page.select_option("#id_height", "256")
    page.fill("#id_steps", "8")
    page.locator("#id_prompt").press("Enter")
    expect(page).to_have_url(re.compile(r"/studio/jobs/"))
    # The polled fragment: one badge and a stage label that agree, and a <progress>.
    # All three are read from one element in one evaluation: htmx swaps the whole
    # fragment (outerHTML), and three separate reads could straddle a swap and pair
    # the old badge with the new label.
    read_fragment = """() => {
        const el = document.getElementById("progress");
        if (!el) return null;
        return [el.querySelector(".badge").innerText,
                el.querySelector("#stage-label").innerText,
                el.querySelector("progress").getAttribute("value") || ""];
    }"""
    seen: list[tuple[str, str, str]] = []
    for _ in range(480):
        try:
            read = page.evaluate(read_fragment)
        except PlaywrightError:  # the page navigated (reloaded itself at the end)
            page.wait_for_timeout(200)
            continue
        if read is None:
            break
        row = (str(read[0]), str(read[1]), str(read[2]))
        if not seen or seen[-1] != row:
            seen.append(row)
            if row[1].startswith("Generating"):
                shot(page, "journey1-05-job-progress", key=True)
        page.wait_for_timeout(200)
    assert seen, "the progress fragment was never seen"
    for badge, label, _value in seen:
        assert (badge, label.split(":")[0].split(" —")[0]) in {
            ("Queued", "Checking the prompt…"),  # the deep check on the moderation queue
            ("Queued", "Waiting for a worker."),
            ("Queued", "Waiting for a worker"),
            ("Running", "Loading the model…"),
            ("Running", "Generating"),
            ("Running", "Checking the image against the content policy…"),
            ("Running", "Storing the image (watermark and provenance)…"),
        }, seen
    values = [int(value) for _b, _l, value in seen]
    assert values == sorted(values), seen
    expect(page.locator("h1 .badge").first).to_have_text("Succeeded", timeout=60_000)
    # The page reloaded itself at the end, the bar full: 8 of 8.
    done = page.locator("#progress-done progress")
    assert (done.get_attribute("value"), done.get_attribute("max")) == ("8", "8")
    expect(page.get_by_text("test model — random pixels").first).to_be_visible()
    assert_accessible(page, "job")
    shot(page, "journey1-06-job-succeeded", key=True)

    page.locator("main .gallery a").first.click()
    expect(page).to_have_url(re.compile(r"/studio/images/"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download")).click()
    download = download_info.value
    target = tmp_path / "image.png"
    download.save_as(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expect(page.get_by_text("test model — random pixels")).to_be_visible()
    assert_accessible(page, "image")

    # A share link: the public page carries the badge and a way to report.
    page.get_by_role("button", name="Create share link").click()
    share_url = page.locator("main input[readonly]").first.input_value()
    assert share_url.startswith(site), share_url
    visitor = open_page(PHONE)
    visitor.goto(share_url)
    expect(visitor.get_by_text("test model — random pixels")).to_be_visible()
    assert_accessible(visitor, "shared image (phone, anonymous)")
    # A signed-out visitor reports it (DSA Art. 16): a reason, a name and an address.
    visitor.get_by_label("What is wrong with this image?").select_option("violence_graphic")
    visitor.get_by_label("Your name").fill("Ana Lima")
    visitor.get_by_label("Your email address").fill("ana@example.org")
    shot(visitor, "journey1-08-shared-report-phone", key=True)
    visitor.get_by_role("button", name="Report image").click()
    expect(visitor.get_by_text("Thank you. A moderator will look at this image.")).to_be_visible()
    assert_accessible(visitor, "shared image reported (phone, anonymous)")

    page.goto("/studio/gallery/")
    expect(page.locator("main .gallery img")).to_have_count(1)
    expect(page.get_by_text("test model — random pixels").first).to_be_visible()
    assert_accessible(page, "gallery")

    phone = open_page(PHONE, signed_in_as=page)
    for path in ("/billing/", "/account/", "/studio/gallery/", "/pricing/", "/"):
        phone.goto(path)
        assert_accessible(phone, f"{path} (phone)")
    phone.goto("/studio/")
    assert_accessible(phone, "studio (phone)")
    generate = phone.get_by_role("button", name="Generate")
    box = generate.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    shot(phone, "journey1-07-studio-phone", key=True)
