"""The durable domain event outbox, one delivery record per (event, reaction), and the admin's view
of workspace components."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from mozaiks_core.auth.models import Organization


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DONE = "done", "done"

    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=200, db_index=True)
    module_id = models.CharField(max_length=64, db_index=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    actor = models.JSONField(default=dict, blank=True)
    subject = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    causation_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = "outbox event"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    def envelope(self) -> dict[str, Any]:
        """The event as reactions receive it (and as it would leave the process)."""
        return {
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "subject": self.subject,
            "payload": self.payload,
            "organization_id": self.organization_id,
            "correlation_id": self.correlation_id,
            "causation_id": str(self.causation_id) if self.causation_id else None,
        }


class EventDelivery(models.Model):
    """The delivery of one event to one reaction: delivered exactly once, retried, or dead."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        FAILED = "failed", "failed (will retry)"
        DELIVERED = "delivered", "delivered"
        DEAD = "dead", "dead"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    reaction_key = models.CharField(max_length=200)
    reaction_kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "event deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "reaction_key"], name="mozaiks_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event.event_type} → {self.reaction_key} ({self.status})"


class WorkspaceComponent(models.Model):
    """No table: gives the admin a "Plugins" page listing modules, plugins and packs from memory."""

    class Meta:
        managed = False
        verbose_name = "module, plugin or pack"
        verbose_name_plural = "modules, plugins and packs"
        default_permissions = ("view",)

    def __str__(self) -> str:
        return "workspace component"


class StagedChange(models.Model):
    """A set of artifacts a builder staged for the workspace: validated, reviewed, then promoted.

    The files live in ``MOZAIKS_STAGING_DIR/<id>/files/`` until promotion copies them into
    ``MOZAIKS_APP_DIR``; ``files`` is the per-file diff against the live workspace at staging time.
    """

    class Status(models.TextChoices):
        STAGED = "staged", "staged (awaiting review)"
        INVALID = "invalid", "invalid (fails validation)"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"
        PROMOTED = "promoted", "promoted"
        FAILED = "failed", "promotion failed"

    label = models.CharField(max_length=200)
    origin = models.CharField(max_length=32, default="cli", help_text="cli, api, workflow or pack")
    source_pack_id = models.CharField(max_length=64, blank=True, db_index=True)
    chat_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STAGED, db_index=True)
    files = models.JSONField(default=list, blank=True)
    problems = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "staged change"

    def __str__(self) -> str:
        return f"#{self.pk} {self.label} ({self.status})"

    def error_count(self) -> int:
        """How many validation errors the staged workspace has."""
        return sum(1 for problem in self.problems if problem.get("level") == "error")
