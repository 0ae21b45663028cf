"""Module actions of the settings pack (``/api/modules/settings/<action>``)."""

from __future__ import annotations

from typing import Any

from mozaiks_core.packs.settings import services
from mozaiks_core.plugins.context import ModuleContext


class SettingsHandler:
    """List the caller's preferences and change one."""

    def list_settings(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Every user and organization setting with its value for the caller."""
        values = services.stored_values(None, ctx.user, ctx.organization)
        items = [{"module": s.module_id, "key": s.key, "scope": s.scope, "label": s.label,
                  "description": s.description, "default": s.default,
                  "value": values.get((s.module_id, s.key), s.default),
                  "editable": s.scope == "user" or ctx.role in services.MANAGER_ROLES}
                 for s in services.declared()]
        return {"items": items, "total": len(items)}

    def set_setting(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Store one value; organization settings need the owner or admin role."""
        row = services.set_value(module_id=data["module"], key=data["key"], value=data["value"], user=ctx.user,
                                 organization=ctx.organization, role=ctx.role)
        return {"module": row.module_id, "key": row.key, "value": row.value,
                "scope": "user" if row.user_id else "organization"}
