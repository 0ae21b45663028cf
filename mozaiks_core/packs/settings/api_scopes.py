"""Org-scoping factories of the settings pack's actions (see mozaiks_core/plugins/api_scopes.py).

Stored values belong to one organization (and, for user settings, one user in it): the marker is
the owner's organization value in organization A, which nobody else's answer may contain.
"""

from __future__ import annotations

import uuid
from typing import Any

from mozaiks_core.auth.scoping import ScopedCall
from mozaiks_core.packs.settings import services
from mozaiks_core.packs.settings.models import SettingValue


def _first(scope: str) -> services.DeclaredSetting | None:
    return next((setting for setting in services.declared() if setting.scope == scope
                 and setting.type in {"", "string"} and isinstance(setting.default, str | type(None))), None)


def organization_value(organization: Any, owner: Any) -> ScopedCall:
    """A stored organization value in org A: the owner's list shows it."""
    setting = _first("organization")
    if setting is None:
        return ScopedCall()
    marker = f"scoped-{uuid.uuid4().hex[:10]}"
    SettingValue.objects.create(module_id=setting.module_id, key=setting.key, organization=organization,
                                value=marker, updated_by=owner)
    return ScopedCall(marker=marker)


def user_value_change(organization: Any, owner: Any) -> ScopedCall:
    """Change a user setting to its own default (a valid value of its type)."""
    setting = next((s for s in services.declared() if s.scope == "user"), None)
    if setting is None:
        return ScopedCall()
    return ScopedCall(json={"module": setting.module_id, "key": setting.key, "value": setting.default})


SCOPE_FACTORIES = {
    "list_settings": organization_value,
    "set_setting": user_value_change,
}
