"""``manage.py make_test_model``: build the tiny random-weight TEST model (noise images).

Idempotent: an existing model (``model_index.json`` present) is kept unless ``--force``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.engine.tiny_model import build_tiny_pipeline, is_tiny_pipeline

DEFAULT_OUTPUT = Path("var/models/tiny-sd")


class Command(BaseCommand):
    help = (
        "Build the tiny random-weight TEST model (its images are noise) for development "
        "and tests, offline. Skips an existing model unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=DEFAULT_OUTPUT,
            help=f"directory to write the pipeline to (default {DEFAULT_OUTPUT})",
        )
        parser.add_argument(
            "--force", action="store_true", help="rebuild even if a model is already there"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        if is_tiny_pipeline(output) and not options["force"]:
            self.stdout.write(f"Test model already present at {output}; use --force to rebuild.")
            return
        if output.exists() and not output.is_dir():
            raise CommandError(f"{output} exists and is not a directory")
        if options["force"] and output.is_dir():
            shutil.rmtree(output)
        build_tiny_pipeline(output)
        self.stdout.write(
            self.style.SUCCESS(f"Built the tiny TEST model (images are noise) at {output}.")
        )
