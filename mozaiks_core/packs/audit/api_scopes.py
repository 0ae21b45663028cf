"""Org-scoping factory of the audit pack's ``activity`` action (see mozaiks_core/plugins/api_scopes.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from mozaiks_core.auth.scoping import ScopedCall
from mozaiks_core.packs.audit.models import ActivityEntry


def recorded_activity(organization: Any, owner: Any) -> ScopedCall:
    """An activity entry of org A whose subject label is the marker."""
    entry = ActivityEntry.objects.create(
        event_id=uuid.uuid4(), event_type="domain.tasks.task_created", module_id="tasks", organization=organization,
        actor_label=owner.email, subject_type="task", subject_label=f"Scoped subject {uuid.uuid4().hex[:10]}",
        occurred_at=timezone.now())
    return ScopedCall(marker=entry.subject_label)


SCOPE_FACTORIES = {"activity": recorded_activity}
