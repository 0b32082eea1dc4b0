"""The fault suite starts real workers, Redis servers and web processes: it runs when
``IMAGEGATE_FAULT_TESTS=1`` (``.ci/run`` sets it) or when ``-m faults`` is asked for."""

from __future__ import annotations

import os

import pytest

from tests.generation.conftest import api_for, tiny_model_dir  # noqa: F401  (fixtures)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("IMAGEGATE_FAULT_TESTS") == "1" or "faults" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="fault suite: set IMAGEGATE_FAULT_TESTS=1 or use -m faults")
    for item in items:
        if item.get_closest_marker("faults") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _classifiers_in_the_request(settings, monkeypatch) -> None:
    """The fault suite is about GPU workers, brokers and the books: most of its workers
    serve ``gpu`` alone, so the prompt classifiers run in the request here (the test
    process and any web or worker process it starts). The deep check on the moderation
    queue is tested in tests/moderation_service/test_deep_check.py and, with a real
    worker, tests/generation/test_deep_check_worker.py."""
    settings.MODERATION_CLASSIFIER_STAGE = "request"
    monkeypatch.setenv("MODERATION_CLASSIFIER_STAGE", "request")
