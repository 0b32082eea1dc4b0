"""Export statements of reasons in the DSA Transparency Database's JSON fields."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accountability.dsa import statement_as_dsa, statements_since


class Command(BaseCommand):
    help = "Write statements of reasons created since DATE as DSA Transparency Database JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="YYYY-MM-DD (UTC, inclusive)")
        parser.add_argument("--output", help="A file to write; standard output when omitted")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = dt.date.fromisoformat(options["since"])
        except ValueError:
            raise CommandError("--since must be a date, YYYY-MM-DD") from None
        records = [statement_as_dsa(statement) for statement in statements_since(since)]
        payload = json.dumps({"statements": records}, indent=2, ensure_ascii=False)
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
            self.stderr.write(f"{len(records)} statements written to {options['output']}")
        else:
            self.stdout.write(payload)
