"""The audit module's handler: the ``record`` reaction and the ``activity`` query."""

from __future__ import annotations

from typing import Any

from mozaiks_core.packs.audit import services
from mozaiks_core.plugins.context import ModuleContext


class AuditHandler:
    """Writes every domain event to the activity log and serves it back."""

    def record(self, ctx: ModuleContext, envelope: dict[str, Any]) -> None:
        """Reaction to ``domain.*``."""
        services.record_event(envelope)

    def activity(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """A page of the caller organization's activity."""
        rows = services.activity(ctx.organization, data.get("event_type", ""))
        page, size = data.get("page", 1), data.get("page_size", 25)
        items = [{"event_type": row.event_type, "actor": row.actor_label, "subject": row.subject_label,
                  "occurred_at": row.occurred_at.isoformat(), "payload": row.payload}
                 for row in rows[(page - 1) * size: page * size]]
        return {"items": items, "total": rows.count(), "page": page, "page_size": size}
