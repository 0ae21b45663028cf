"""Audit actions: record an event, and read an organization's activity."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from mozaiks_core.packs.audit.models import ActivityEntry


def record_event(envelope: dict[str, Any]) -> None:
    """Copy one event envelope into the activity log (one insert; a repeat is ignored by event id)."""
    actor = envelope.get("actor") or {}
    subject = envelope.get("subject") or {}
    entry = ActivityEntry(
        event_id=envelope["event_id"], event_type=envelope["event_type"],
        module_id=envelope["event_type"].split(".")[1], organization_id=envelope.get("organization_id"),
        actor_label=str(actor.get("label") or actor.get("type", ""))[:300], actor_id=str(actor.get("id", ""))[:64],
        subject_type=str(subject.get("type", ""))[:200], subject_id=str(subject.get("id", ""))[:200],
        subject_label=str(subject.get("label", ""))[:300], payload=envelope.get("payload") or {},
        correlation_id=envelope.get("correlation_id") or "", occurred_at=parse_datetime(envelope["occurred_at"]),
    )
    ActivityEntry.objects.bulk_create([entry], ignore_conflicts=True)


def activity(organization: Any, event_type: str = "") -> QuerySet[ActivityEntry]:
    """An organization's activity, newest first, optionally one event type (every read is org-scoped)."""
    rows = ActivityEntry.objects.filter(organization=organization)
    return rows.filter(event_type=event_type) if event_type else rows


def event_types(organization: Any) -> list[str]:
    """The event types present in an organization's log (for the filter)."""
    rows = ActivityEntry.objects.filter(organization=organization).values_list("event_type", flat=True)
    return sorted(set(rows.distinct()))
