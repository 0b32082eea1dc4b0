"""Helpers for the browser journeys: screenshots, axe-core, TOTP codes, mail links."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "screenshots" / "browser"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("IMAGEGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-test-password"
# Screenshots worth keeping in docs/screenshots/ (copied when IMAGEGATE_UPDATE_SCREENSHOTS=1).
KEY_SHOTS: set[str] = set()


def shot(page: Any, name: str, *, key: bool = False, full_page: bool = False) -> Path:
    """Save a screenshot under var/screenshots/browser/ (and docs/screenshots/ for key ones)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if key and os.environ.get("IMAGEGATE_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        _save_small(path, DOCS_SHOTS / path.name)
    return path


def _save_small(source: Path, target: Path) -> None:
    """A palette PNG: the committed screenshots stay small."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        shutil.copy(source, target)
        return
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=128).save(target, optimize=True)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the site's strict CSP (no inline
        # script) does not govern; a <script> tag with axe's source would be refused.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
              summary: v.nodes.slice(0, 1).map(n => n.failureSummary).join('')}));
        }"""
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any, label: str) -> None:
    found = axe_violations(page)
    assert not found, f"axe on {label} ({page.url}):\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} at {v['targets']}\n  {v['summary']}" for v in found
    )


TOTP_PERIOD = 30
# A code typed with less time than this left in its window may expire before the
# server checks it (allauth's default tolerance is no neighbouring window).
TOTP_MARGIN_SECONDS = 5


def totp_code(secret: str, *, margin: float = TOTP_MARGIN_SECONDS) -> str:
    """The current code, after waiting for the next window when this one ends within
    ``margin`` seconds."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < margin:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // TOTP_PERIOD))


def next_totp_window() -> None:
    """Sleep into the next TOTP window: allauth refuses a code its user has already
    used, so a second sign-in by one account within a window needs the next code."""
    time.sleep(TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.05)


def last_mail_link(pattern: str = r"https?://\S+/accounts/confirm-email/\S+") -> str:
    from django.core import mail

    for message in reversed(mail.outbox):
        found = re.search(pattern, str(message.body))
        if found:
            return found.group(0)
    raise AssertionError(f"no mail with a link like {pattern!r} in {len(mail.outbox)} mails")
