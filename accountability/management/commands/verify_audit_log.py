from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accountability.audit import audit_verify_chain
from accountability.models import AuditLogEntry


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit non-zero naming the first bad row."

    def handle(self, *args: Any, **options: Any) -> None:
        problem = audit_verify_chain()
        if problem is not None:
            raise CommandError(f"Audit log broken at entry {problem.entry_id}: {problem.problem}")
        count = AuditLogEntry.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {count} entries verified."))
