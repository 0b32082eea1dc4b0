"""Screenshot the site's pages as each kind of user sees them, in headless Chromium.

    python scripts/screenshots.py --base http://127.0.0.1:8000 --password PW [--totp SECRET]
        [--out DIR] [--only visitor,subscriber,...]

Run it against a server seeded with ``manage.py seed_demo`` and a Celery worker on the
``default``, ``moderation`` and ``gpu`` queues (the subscriber's generation waits for the
worker). Staff log in with TOTP when ``--totp`` is the base32 secret they were seeded with
(``IMAGEGATE_DEMO_TOTP_SECRET``); computing the code imports Django, so export the same
settings environment as the server.

Each role walks its pages and flows (member: age verification stand-in; subscriber:
generate, progress, image, a blocked prompt, its statement and an appeal; moderator: the
queue, claiming an item; senior: appeals, policy, CSAM cases; billing admin: Django admin
and the credit ledger) and writes numbered PNGs to ``var/screenshots/`` (``--out``), e.g.
``subscriber-03-job-progress.png``. It prints each path and any page that answered with
an HTTP error or logged a JavaScript error, and exits 1 if there were any.

The tour changes data as a user would (jobs, a blocked prompt with its strike, an appeal,
a report, a claimed review item), so run it against a throwaway database freshly seeded;
a second run on the same data finds the subscriber cooling down after two blocks.

Uses Debian's Chromium through Playwright (no browser download).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROLES = {
    "visitor": None,
    "member": "member@example.com",
    "subscriber": "subscriber@example.com",
    "moderator": "moderator@example.com",
    "senior": "senior@example.com",
    "billing": "billing@example.com",
}
SAFE_PROMPT = "a watercolour lighthouse on a cliff at dusk"
BLOCKED_PROMPT = "a gory decapitated corpse"
HELD_PROMPT = "a knight with a bloody sword after the battle"


def totp_code(secret: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")
    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


class Shooter:
    def __init__(self, page: Any, base: str, out: Path, role: str) -> None:
        self.page, self.base, self.out, self.role = page, base, out, role
        self.n = 0
        self.problems: list[str] = []
        self.expected_status = 200
        page.on("pageerror", lambda exc: self.problems.append(f"{role} {page.url}: JS error {exc}"))
        page.on("response", self._check_response)

    def _check_response(self, response: Any) -> None:
        if response.status < 400:
            return
        if response.request.is_navigation_request() and response.status == self.expected_status:
            return
        self.problems.append(f"{self.role} {self.page.url}: HTTP {response.status} {response.url}")

    def goto(self, path: str, expect: int = 200) -> Any:
        self.expected_status = expect
        try:
            response = self.page.goto(f"{self.base}{path}")
            self.page.wait_for_load_state("networkidle")
        finally:
            self.expected_status = 200
        if response is not None and response.status != expect and response.status < 400:
            self.problems.append(f"{self.role} {path}: HTTP {response.status}, expected {expect}")
        return response

    def shot(self, label: str) -> None:
        self.n += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "root"
        path = self.out / f"{self.role}-{self.n:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(path)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            self.problems.append(f"{path.name}: page is {overflow}px wider than the viewport")

    def visit(self, path: str, label: str | None = None, expect: int = 200) -> None:
        self.goto(path, expect)
        self.shot(label or path)

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state("networkidle")

    def login(self, email: str, password: str, totp: str) -> None:
        self.goto("/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("main form [type=submit]")
        self.page.wait_for_load_state()
        if "/2fa/" in self.page.url or "authenticate" in self.page.url:
            if not totp:
                self.problems.append(f"{self.role}: needs --totp to log in")
                return
            self.shot("login-totp")
            self.page.fill("input[name=code]", totp_code(totp))
            self.page.click("main form [type=submit]")
            self.page.wait_for_load_state()


# ---------------------------------------------------------------------------- flows


def visitor(s: Shooter) -> None:
    for path in ["/", "/pricing/", "/policy/", "/transparency/"]:
        s.visit(path)
    s.visit("/accounts/login/", "login")
    s.visit("/accounts/signup/", "signup")
    s.visit("/studio/", "studio-redirects-to-login")
    s.visit("/no-such-page/", "not-found", expect=404)
    s.page.goto(f"{s.base}/api/v1/docs/")
    s.page.wait_for_timeout(1500)
    s.shot("api-docs")


def member(s: Shooter) -> None:
    s.visit("/account/", "account")
    s.visit("/studio/", "studio-verify-age")
    s.visit("/billing/", "billing")
    s.visit("/account/statements/", "statements")
    s.visit("/account/api-keys/", "api-keys")
    s.goto("/account/")
    button = s.page.locator("form[action*='age-verification'] button[type=submit]")
    if button.count() and button.first.is_enabled():
        button.first.click()
        s.page.wait_for_load_state("networkidle")
        s.shot("identity-stand-in")
    else:
        s.problems.append("member: no enabled 'Verify age' button on /account/")


def _submit_prompt(s: Shooter, prompt: str) -> None:
    s.goto("/studio/")
    s.page.fill("#id_prompt", prompt)
    s.page.click("main form button[type=submit]:has-text('Generate')")
    s.page.wait_for_load_state("networkidle")


def subscriber(s: Shooter) -> None:
    s.visit("/studio/", "studio")
    _submit_prompt(s, SAFE_PROMPT)
    s.shot("job-progress")
    for _ in range(90):
        if s.page.locator("#progress").count() == 0:
            break
        s.page.wait_for_timeout(1000)
    s.page.reload()
    s.page.wait_for_load_state("networkidle")
    s.shot("job-finished")
    image_link = s.page.locator("main .gallery a[href*='/studio/images/']")
    if image_link.count():
        image_link.first.click()
        s.page.wait_for_load_state("networkidle")
        s.shot("image")
        s.click("form[action$='/share'] button")
        s.shot("image-shared")
        share_url = s.page.locator("main input[readonly]").first.input_value()
        anonymous = s.page.context.browser.new_context(viewport=s.page.viewport_size)
        other = Shooter(anonymous.new_page(), s.base, s.out, "visitor")
        other.n = 90
        other.page.goto(share_url)
        other.page.wait_for_load_state("networkidle")
        other.shot("shared-image")
        s.problems += other.problems
        anonymous.close()
        s.page.select_option("#id_report_reason", "other")
        s.page.fill("#id_report_details", "Screenshot tour: a test report for the moderators.")
        s.click("form.report-form button[type=submit]")
        s.shot("image-reported")
    else:
        s.problems.append("subscriber: the generation did not finish with an image")
    _submit_prompt(s, HELD_PROMPT)
    s.shot("held-prompt")
    _submit_prompt(s, BLOCKED_PROMPT)
    s.shot("blocked-prompt")
    s.visit("/studio/", "studio-with-history")
    s.visit("/account/statements/", "statements")
    detail = s.page.locator("main table a[href*='/account/statements/']")
    if detail.count():
        detail.first.click()
        s.page.wait_for_load_state("networkidle")
        s.shot("statement")
        if s.page.locator("#appeal-text").count():
            s.page.fill("#appeal-text", "The prompt describes a horror-film prop, not a real body.")
            s.page.click("#appeal button[type=submit]")
            s.page.wait_for_load_state("networkidle")
            s.shot("statement-appealed")
    s.visit("/billing/", "billing")
    s.visit("/account/", "account")
    s.visit("/account/api-keys/", "api-keys")


def moderator(s: Shooter) -> None:
    s.visit("/moderation/", "dashboard")
    s.visit("/moderation/queue/", "queue")
    open_link = s.page.locator("main table a[href*='/moderation/items/']")
    if open_link.count():
        open_link.first.click()
        s.page.wait_for_load_state("networkidle")
        s.shot("item")
        claim = s.page.locator("form[action*='/claim/'] button")
        if claim.count():
            claim.first.click()
            s.page.wait_for_load_state("networkidle")
            s.shot("item-claimed")
            s.page.locator("input[name=action][value=approve]").check()
            s.page.wait_for_timeout(300)
            s.shot("item-decision-filled")
            s.page.locator("button.reveal").first.click()
            s.page.wait_for_timeout(300)
            s.shot("item-revealed")
    else:
        s.shot("queue-empty")
    s.visit("/moderation/reports/", "reports")
    s.visit("/moderation/users/", "users")


def senior(s: Shooter) -> None:
    s.visit("/moderation/appeals/", "appeals")
    appeal = s.page.locator("main table a[href*='/moderation/appeals/']")
    if appeal.count():
        appeal.first.click()
        s.page.wait_for_load_state("networkidle")
        s.shot("appeal")
    s.visit("/moderation/policy/", "policy-editor")
    s.visit("/moderation/csam/", "csam-cases")
    s.visit("/moderation/legal-holds/", "legal-holds")


def billing(s: Shooter) -> None:
    s.visit("/admin/", "admin-index")
    s.visit("/admin/billing/creditledgerentry/", "credit-ledger")
    s.visit("/admin/billing/plan/", "plans")
    s.visit("/moderation/", "moderation-hidden", expect=404)


FLOWS: dict[str, Callable[[Shooter], None]] = {
    "visitor": visitor,
    "member": member,
    "subscriber": subscriber,
    "moderator": moderator,
    "senior": senior,
    "billing": billing,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True)
    parser.add_argument("--totp", default=os.environ.get("IMAGEGATE_DEMO_TOTP_SECRET", ""))
    parser.add_argument("--out", default=str(ROOT / "var" / "screenshots"))
    parser.add_argument("--only", default="", help=f"comma-separated roles: {', '.join(ROLES)}")
    parser.add_argument("--width", type=int, default=1280, help="viewport width (try 390)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    wanted = [r for r in args.only.split(",") if r] or list(ROLES)
    unknown = set(wanted) - set(ROLES)
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))}")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for role in wanted:
            context = browser.new_context(viewport={"width": args.width, "height": 900})
            shooter = Shooter(context.new_page(), args.base.rstrip("/"), out, role)
            try:
                email = ROLES[role]
                if email:
                    shooter.login(email, args.password, args.totp)
                FLOWS[role](shooter)
            except Exception as exc:  # keep going: the other roles' pictures still help
                shooter.problems.append(f"{role}: flow stopped at {shooter.page.url}: {exc}")
                shooter.shot("flow-stopped")
            problems += shooter.problems
            context.close()
        browser.close()
    for problem in problems:
        print("PROBLEM", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
