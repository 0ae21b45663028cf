"""The tasks module's model: one task list per organization."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mozaiks_core.auth.models import Organization


class Task(models.Model):
    """A to-do item of an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    done = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done", "-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title
