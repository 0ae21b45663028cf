"""Module actions of the notifications pack (``/api/modules/notifications/<action>``)."""

from __future__ import annotations

from typing import Any

from mozaiks_core.packs.notifications import services
from mozaiks_core.plugins.context import ModuleContext


def as_json(notification: Any) -> dict[str, Any]:
    """One notification as the API returns it."""
    return {"id": notification.pk, "title": notification.title, "body": notification.body,
            "link": notification.link, "category": notification.category,
            "created_at": notification.created_at.isoformat(),
            "read": notification.read_at is not None}


class NotificationsHandler:
    """List, count and mark the caller's notifications; read and change preferences."""

    def list_notifications(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """A page of notifications, newest first."""
        rows = services.for_user(ctx.user, ctx.organization)
        if data.get("unread"):
            rows = rows.filter(read_at__isnull=True)
        page, size = data.get("page", 1), data.get("page_size", 20)
        items = [as_json(row) for row in rows[(page - 1) * size: page * size]]
        return {"items": items, "total": rows.count(), "page": page, "page_size": size}

    def unread_count(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, int]:
        """The bell's count."""
        return {"unread": services.unread_count(ctx.user, ctx.organization)}

    def mark_read(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, int]:
        """Mark ``ids`` (or everything with ``all: true``) read."""
        ids = None if data.get("all") else data.get("ids", [])
        marked = services.mark_read(ctx.user, ctx.organization, ids)
        return {"marked": marked, "unread": services.unread_count(ctx.user, ctx.organization)}

    def preferences(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Every declared category with the caller's choice."""
        return {"categories": [{**category, "enabled": services.is_enabled(ctx.user, category["id"])}
                               for category in services.categories()]}

    def set_preference(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Turn one category on or off."""
        preference = services.set_preference(ctx.user, data["category"], data["enabled"])
        return {"category": preference.category, "enabled": preference.enabled}
