"""Accountability records (SPEC §7)."""

from __future__ import annotations

import pgtrigger
from django.db import models


@pgtrigger.register(
    pgtrigger.Protect(name="audit_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class AuditLogEntry(models.Model):
    """One append-only, hash-chained audit record.

    ``entry_hash`` is SHA-256 over the previous row's hash and this row's canonical
    content, so altering, removing or reordering any row breaks the chain from that
    row on. PostgreSQL refuses UPDATE and DELETE on the table (a trigger). The actor
    is kept as a plain id and label, not a foreign key, so that erasing a user never
    has to touch this table.
    """

    created_at = models.DateTimeField()
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"
