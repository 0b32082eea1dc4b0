from __future__ import annotations

import io
from pathlib import Path

import pytest


def call_make_test_model(*args: str) -> str:
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - touching it tells whether Django is configured
    except ImproperlyConfigured:
        pytest.skip("Django settings are not configured (run without -p no:django)")
    from django.core.management import call_command

    out = io.StringIO()
    call_command("make_test_model", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_make_test_model_builds_once_then_skips(tmp_path: Path) -> None:
    target = tmp_path / "tiny-sd"
    assert "Built the tiny TEST model" in call_make_test_model("--output", str(target))
    assert (target / "model_index.json").is_file()
    stamp = (target / "model_index.json").stat().st_mtime_ns
    assert "already present" in call_make_test_model("--output", str(target))
    assert (target / "model_index.json").stat().st_mtime_ns == stamp
    assert "Built" in call_make_test_model("--output", str(target), "--force")
