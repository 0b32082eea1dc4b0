from __future__ import annotations

from django.db import models


class BareItem(models.Model):
    prompt = models.TextField()
    width = models.IntegerField()
    height = models.IntegerField()
    steps = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[BareItem] = models.Manager()

    class Meta:
        app_label = "bare"

    def __str__(self) -> str:
        return self.prompt[:40]
