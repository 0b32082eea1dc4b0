from __future__ import annotations

from django.db import models


class BareItem(models.Model):
    prompt = models.TextField()
    width = models.IntegerField()
    height = models.IntegerField()
    steps = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bare"
