"""``python manage.py moderation_eval FILE.jsonl [--json OUT] [--jurisdiction CODE|all]``.

Runs the synchronous text path (normalisation, rules, classifier) of the pure engine on
every ``{prompt, ...}`` line, prints recall per scope and per source (grouped by the
source's prefix), false-positive rate per benign source, block rate on benign and
latency percentiles. Prompts over the length limit are reported apart (the API
answers 400), never counted as blocks. ``--jurisdiction CODE`` (``DE``, ``US-AL``)
applies that row of the jurisdictions table as the service does (a classifier-only
regional signal holds for review); ``--jurisdiction all`` adds the benign flagged and
blocked rates under every row of the table. With ``--json`` one line per input, in
input order: decision, category, layer, span, matched text and every layer's scores.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from accounts.models import Jurisdiction
from moderation.engine.evaluate import evaluate, format_report, read_jsonl
from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import ModelNotBuiltError, TextClassifier
from moderation.policy import jurisdiction_limits


class Command(BaseCommand):
    help = "Evaluate the synchronous prompt-moderation path on a JSONL file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="JSONL file of {prompt, label?, scope?, source?}")
        parser.add_argument("--json", dest="json_out", help="write per-row decisions here")
        parser.add_argument("--model", help="ONNX model file or folder (default var/models)")
        parser.add_argument("--rules-only", action="store_true", help="skip the classifier layer")
        parser.add_argument(
            "--jurisdiction",
            help="a jurisdiction code of the table (DE, US-AL, default) or 'all'",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        classifier = None
        if not options["rules_only"]:
            try:
                classifier = TextClassifier.load(path=options["model"])
            except ModelNotBuiltError as error:
                raise SystemExit(str(error)) from error
        moderator = TextModerator(classifier=classifier)
        code = options["jurisdiction"]
        table = _jurisdiction_table(moderator) if code else {}
        limits: dict[str, dict[str, float]] | None = None
        if code and code != "all":
            if code not in table:
                known = ", ".join(sorted(table))
                raise CommandError(f"unknown jurisdiction {code!r}; the table has: {known}")
            limits = table[code]
        report, outputs = evaluate(
            read_jsonl(options["file"]),
            moderator,
            limits=limits,
            jurisdiction=code if limits is not None else "",
            jurisdictions=table if code == "all" else None,
        )
        self.stdout.write(format_report(report))
        if options["json_out"]:
            with open(options["json_out"], "w", encoding="utf-8") as handle:
                for output in outputs:
                    handle.write(json.dumps(output, ensure_ascii=False) + "\n")


def _jurisdiction_table(moderator: TextModerator) -> dict[str, dict[str, dict[str, float]]]:
    """Every row of the jurisdictions table: its code and its limits over the engine's."""
    try:
        return {
            row.code: jurisdiction_limits(moderator.thresholds, row.moderation_overrides)
            for row in Jurisdiction.objects.all()
        }
    except DatabaseError as error:
        raise CommandError(
            "--jurisdiction reads the jurisdictions table, which this database does not "
            f"have yet ({error}); run `python manage.py migrate` first"
        ) from error
