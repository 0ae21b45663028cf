"""Activity entries: one per domain event, written by the audit reaction."""

from __future__ import annotations

from django.db import models

from mozaiks_core.auth.models import Organization


class ActivityEntry(models.Model):
    """What happened, who did it, to what, and when (a read-only copy of the event envelope)."""

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=200, db_index=True)
    module_id = models.CharField(max_length=64, db_index=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="activity")
    actor_label = models.CharField(max_length=300, blank=True)
    actor_id = models.CharField(max_length=64, blank=True)
    subject_type = models.CharField(max_length=200, blank=True)
    subject_id = models.CharField(max_length=200, blank=True)
    subject_label = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "activity entries"
        indexes = [models.Index(fields=["organization", "-occurred_at"], name="audit_org_time_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.actor_label or 'system'}"
