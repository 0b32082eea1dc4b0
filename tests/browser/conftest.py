"""Browser journeys: Playwright driving Debian's Chromium against a live server and a
real Celery worker (SPEC's journeys, issue 16).

One Chromium for the whole session, one live server (pytest-django's ``live_server``,
in this process, so the test reads the same locmem mail outbox), and one worker process
on every queue against the test database. Each test is transactional: the worker sees
what the site commits, and the database is emptied after each test.

Every test here carries the ``browser`` marker. Without Chromium they are skipped, unless
``IMAGEGATE_BROWSER_TESTS=required`` (``.ci/run`` sets it), which makes that an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PASSWORD,
    assert_accessible,
    next_totp_window,
    shot,
    totp_code,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium; make test does it)"
    return None


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One headless Chromium for all the browser tests, closed after the last one."""
    missing = _chromium_missing()
    if missing:
        if os.environ.get("IMAGEGATE_BROWSER_TESTS") == "required":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django would
    # then refuse database calls from the test body as "async-unsafe". They are not:
    # they run in this thread, between browser calls. Only while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser_worker(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """One real Celery worker on every queue for the browser tests; stopped after the
    last one, so it never takes tasks meant for other tests' workers."""
    from tests.worker import start_worker

    with django_db_blocker.unblock():
        worker = start_worker()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def site(live_server: Any, transactional_db: None, browser_worker: Any) -> str:
    """The live server's base URL, with reference data seeded and caches empty."""
    from django.core import mail
    from django.core.cache import cache

    cache.clear()
    mail.outbox = []
    return str(live_server.url)


class PageProblems:
    """JavaScript errors and server errors seen by a page; asserted empty at the end."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda exc: self.items.append(f"JS error on {page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.items.append(f"console error on {page.url}: {msg.text}")
                if msg.type == "error" and "status of 4" not in msg.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.items.append(f"HTTP {r.status} {r.request.method} {r.url}")
                if r.status >= 500
                else None
            ),
        )


@pytest.fixture
def open_page(
    chromium: Any, site: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """``open_page(viewport=DESKTOP)`` → a page in a fresh browser context (own cookies)."""
    contexts: list[Any] = []
    problems = PageProblems()

    def make(viewport: dict[str, int] | None = None, *, signed_in_as: Any = None) -> Any:
        """``signed_in_as=page`` shares that page's session (a TOTP code is good once)."""
        context = chromium.new_context(
            viewport=viewport or DESKTOP, base_url=site, device_scale_factor=1
        )
        if signed_in_as is not None:
            context.add_cookies(signed_in_as.context.cookies())
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    if request.node.stash.get(FAILED, False):
        for number, context in enumerate(contexts):
            for page in context.pages:
                shot(page, f"FAILED-{request.node.name}-{number}", full_page=True)
    for context in contexts:
        context.close()
    assert not problems.items, "\n".join(problems.items)


def log_in(page: Any, email: str, *, totp_secret: str | None = None, check: bool = False) -> None:
    """Sign in through the real login form (and the TOTP step for staff); ``check``
    runs axe on the login and TOTP pages too."""
    page.goto("/accounts/login/")
    if check:
        assert_accessible(page, "login")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form [type=submit]")
    page.wait_for_load_state()
    if totp_secret is not None:
        page.wait_for_selector("input[name=code]")
        if check:
            assert_accessible(page, "TOTP step")
        for attempt in range(2):
            if attempt:
                next_totp_window()
            page.fill("input[name=code]", totp_code(totp_secret))
            with page.expect_navigation():
                page.click("main form [type=submit]")
            if not page.locator("input[name=code]").count():
                break
        else:
            raise AssertionError(f"the TOTP step refused two fresh codes for {email} ({page.url})")
