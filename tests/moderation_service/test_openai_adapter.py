from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from moderation.openai_adapter import openai_moderate
from moderation.policy import default_policy_document

THRESHOLDS = default_policy_document()["external"]


class FakeOpenAI:
    """A local stand-in for the moderation endpoint: answers what the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = {"results": [{"flagged": False, "category_scores": {}}]}
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "json": json.loads(self.rfile.read(length)),
                    }
                )
                time.sleep(fake.delay)
                payload = (
                    fake.body if isinstance(fake.body, bytes) else json.dumps(fake.body).encode()
                )
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def scores(self, **category_scores: float) -> None:
        self.body = {
            "results": [
                {
                    "flagged": any(v > 0.5 for v in category_scores.values()),
                    "category_scores": {
                        k.replace("__", "/"): v for k, v in category_scores.items()
                    },
                }
            ]
        }


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.thread.start()
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_API_BASE = fake.url
    settings.OPENAI_MODERATION_TIMEOUT = 0.5
    settings.OPENAI_FAIL_POLICY = "review"
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_off_without_a_key(settings) -> None:
    settings.OPENAI_API_KEY = ""
    verdict = openai_moderate("anything", thresholds=THRESHOLDS)
    assert (verdict.decision, verdict.status) == ("allow", "disabled")


def test_posts_the_prompt_with_the_key(fake_openai: FakeOpenAI) -> None:
    openai_moderate("a lighthouse", thresholds=THRESHOLDS)
    (request,) = fake_openai.requests
    assert request["path"] == "/v1/moderations"
    assert request["authorization"] == "Bearer sk-test"
    assert request["json"]["input"] == "a lighthouse"


def test_maps_categories_and_applies_thresholds(fake_openai: FakeOpenAI) -> None:
    fake_openai.scores(sexual=0.1, violence__graphic=0.95, **{"self-harm__intent": 0.6})
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert verdict.status == "ok"
    assert verdict.scores == {"sexual": 0.1, "violence_graphic": 0.95, "self_harm": 0.6}
    assert (verdict.decision, verdict.category) == ("block", "violence_graphic")


def test_sexual_minors_has_a_low_block_threshold(fake_openai: FakeOpenAI) -> None:
    fake_openai.scores(sexual=0.3, sexual__minors=0.55)
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert (verdict.decision, verdict.category) == ("block", "sexual_minors")


def test_a_clean_answer_allows(fake_openai: FakeOpenAI) -> None:
    fake_openai.scores(sexual=0.01, hate=0.02)
    assert openai_moderate("x", thresholds=THRESHOLDS).decision == "allow"


@pytest.mark.parametrize("policy", ["review", "allow", "block"])
def test_a_timeout_applies_the_fail_policy(fake_openai: FakeOpenAI, settings, policy: str) -> None:
    settings.OPENAI_FAIL_POLICY = policy
    settings.OPENAI_MODERATION_TIMEOUT = 0.2
    fake_openai.delay = 1.0
    started = time.monotonic()
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert time.monotonic() - started < 0.9
    assert (verdict.decision, verdict.status, verdict.error) == (policy, "failed", "timeout")
    assert verdict.category == ""


def test_a_server_error_holds_for_review_by_default(fake_openai: FakeOpenAI) -> None:
    fake_openai.status = 500
    fake_openai.body = {"error": {"message": "boom"}}
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert (verdict.decision, verdict.status, verdict.error) == ("review", "failed", "HTTP 500")


def test_a_malformed_answer_applies_the_fail_policy(fake_openai: FakeOpenAI) -> None:
    fake_openai.body = b"<html>not json</html>"
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert (verdict.decision, verdict.status) == ("review", "failed")
    assert verdict.error.startswith("malformed answer")


def test_an_unreachable_server_applies_the_fail_policy(settings) -> None:
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_API_BASE = "http://127.0.0.1:1"
    verdict = openai_moderate("x", thresholds=THRESHOLDS)
    assert (verdict.decision, verdict.status) == ("review", "failed")
