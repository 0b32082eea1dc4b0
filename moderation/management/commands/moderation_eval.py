"""``python manage.py moderation_eval FILE.jsonl [--json OUT]``: evaluate the text path.

Runs the synchronous text path (normalisation, rules, classifier) of the pure engine on
every ``{prompt, ...}`` line, prints recall per scope and per source, false-positive
rate per benign source, block rate on benign and latency percentiles; with ``--json``
writes one ``{"decision", "category", "layer"}`` line per input, in input order.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from moderation.engine.evaluate import evaluate, format_report, read_jsonl
from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import ModelNotBuiltError, TextClassifier


class Command(BaseCommand):
    help = "Evaluate the synchronous prompt-moderation path on a JSONL file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="JSONL file of {prompt, label?, scope?, source?}")
        parser.add_argument("--json", dest="json_out", help="write per-row decisions here")
        parser.add_argument("--model", help="ONNX model file or folder (default var/models)")
        parser.add_argument("--rules-only", action="store_true", help="skip the classifier layer")

    def handle(self, *args: Any, **options: Any) -> None:
        classifier = None
        if not options["rules_only"]:
            try:
                classifier = TextClassifier.load(path=options["model"])
            except ModelNotBuiltError as error:
                raise SystemExit(str(error)) from error
        moderator = TextModerator(classifier=classifier)
        report, outputs = evaluate(read_jsonl(options["file"]), moderator)
        self.stdout.write(format_report(report))
        if options["json_out"]:
            with open(options["json_out"], "w", encoding="utf-8") as handle:
                for output in outputs:
                    handle.write(json.dumps(output) + "\n")
