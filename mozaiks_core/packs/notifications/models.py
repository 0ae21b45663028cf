"""Notifications and per-user notification preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mozaiks_core.auth.models import Organization


class Notification(models.Model):
    """One in-app notification for one user in one organization; ``read_at`` is its read state."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    category = models.CharField(max_length=200, db_index=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    event_id = models.UUIDField(null=True, blank=True)
    reaction_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "organization", "read_at"], name="notif_unread_idx")]
        constraints = [models.UniqueConstraint(fields=["user", "event_id", "reaction_key"],
                                               condition=models.Q(event_id__isnull=False), name="notif_once_per_event")]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """Whether a user receives notifications of one category (absent: the category's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="notif_pref_once")]

    def __str__(self) -> str:
        return f"{self.category}: {'on' if self.enabled else 'off'}"
