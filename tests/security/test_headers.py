"""Security headers: a strict CSP with no inline code in any template, a relaxed one
only for the API docs, Permissions-Policy, no-store on private API answers, and
``check --deploy`` without a single warning under production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.environments import production_variables

ROOT = Path(__file__).resolve().parent.parent.parent
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    for app in ("accounts", "billing", "generation", "moderation", "accountability", "console"):
        found += sorted((ROOT / app / "templates").rglob("*.html"))
    return found


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    problems = [name for pattern, name in INLINE if pattern.search(text)]
    assert problems == [], template


def test_pages_carry_a_strict_content_security_policy(db) -> None:
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_only_the_api_docs_page_relaxes_the_policy(db) -> None:
    docs = Client().get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "'unsafe-inline'" in docs["Content-Security-Policy"]
    schema = Client().get("/api/v1/schema/")
    assert "unsafe" not in schema["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/generations", "/api/v1/statements", "/api/v1/api-keys"]
)
def test_private_api_answers_are_not_stored(subscriber, session_for, key_for, path) -> None:
    for client in (session_for(subscriber), key_for(subscriber, ["read"])):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_public_pages_are_not_marked_private(db) -> None:
    assert "no-store" not in Client().get("/pricing/").get("Cache-Control", "")


def test_check_deploy_has_no_warnings_under_production_settings() -> None:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        database = "postgres://imagegate@127.0.0.1:5432/imagegate"
    env = {**os.environ, **production_variables(DATABASE_URL=database)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    hsts_seconds, subdomains, preload, proxies = shown.stdout.split()
    assert int(hsts_seconds) >= 365 * 24 * 3600
    assert (subdomains, preload, proxies) == ("True", "True", "1")
    assert settings.SECURE_HSTS_SECONDS == 0  # the test settings do not send HSTS
