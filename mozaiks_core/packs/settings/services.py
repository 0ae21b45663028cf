"""Reading and changing the preferences modules declare with ``scope: user`` or ``scope: organization``.

A value's order of precedence: the user's value (user settings), the organization's value
(organization settings), ``MOZAIKS_PLUGINS_CONFIG[<module>]``, the declared default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from mozaiks_core.packs.settings.models import SettingValue
from mozaiks_core.plugins.context import ModuleActionError
from mozaiks_core.plugins.registry import get_workspace
from mozaiks_core.plugins.specs import ModuleSpec

SCOPES = ("user", "organization")
TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                      "boolean": (bool,)}
MANAGER_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class DeclaredSetting:
    """A setting a module declares for users or organizations."""

    module_id: str
    key: str
    scope: str
    default: Any
    label: str
    description: str
    type: str


def declared() -> list[DeclaredSetting]:
    """Every user- and organization-scoped setting of every loaded module."""
    return [DeclaredSetting(module.id, key, spec.get("scope", "deployment"), spec.get("default"),
                            spec.get("label") or key.replace("_", " ").capitalize(), spec.get("description", ""),
                            spec.get("type", ""))
            for module in get_workspace().modules.values() for key, spec in module.settings.items()
            if spec.get("scope") in SCOPES]


def stored_values(module_id: str | None, user: Any, organization: Any) -> dict[tuple[str, str], Any]:
    """The caller's stored values: organization values, then the user's own on top."""
    rows = SettingValue.objects.filter(organization=organization)
    if module_id is not None:
        rows = rows.filter(module_id=module_id)
    values: dict[tuple[str, str], Any] = {}
    for row in list(rows.filter(user=None)) + list(rows.filter(user=user) if user is not None else []):
        values[(row.module_id, row.key)] = row.value
    return values


def overrides(module: ModuleSpec, user: Any, organization: Any) -> dict[str, Any]:
    """The stored values of ``module``'s user and organization settings for this caller."""
    if organization is None:
        return {}
    scopes = {key: spec.get("scope") for key, spec in module.settings.items()}
    values = stored_values(module.id, user, organization)
    return {key: value for (_, key), value in values.items() if scopes.get(key) in SCOPES}


def _coerce(setting: DeclaredSetting, value: Any) -> Any:
    """Form posts send text: read it as the setting's type (``"25"`` → 25, ``"true"`` → True)."""
    kind = setting.type or {bool: "boolean", int: "integer", float: "number"}.get(type(setting.default), "")
    if not isinstance(value, str) or kind in {"", "string"}:
        return value
    text = value.strip()
    if kind == "boolean" and text.lower() in {"true", "false", "1", "0", "on", "off", "yes", "no"}:
        return text.lower() in {"true", "1", "on", "yes"}
    try:
        return int(text) if kind == "integer" else float(text) if kind == "number" else value
    except ValueError:
        return value


def _check(setting: DeclaredSetting | None, module_id: str, key: str, value: Any, role: str) -> DeclaredSetting:
    if setting is None:
        known = ", ".join(f"{s.module_id}.{s.key}" for s in declared()) or "none"
        raise ModuleActionError("UNKNOWN_SETTING", f"'{module_id}.{key}' is not a user or organization setting "
                                f"(known: {known})", field="key", status=404)
    if setting.scope == "organization" and role not in MANAGER_ROLES:
        raise ModuleActionError("PERMISSION_DENIED", f"'{module_id}.{key}' is an organization setting: owners and "
                                f"admins change it; your role is '{role}'", field="key", status=403)
    expected = TYPES.get(setting.type) or ((type(setting.default),) if setting.default is not None else ())
    wrong_bool = isinstance(value, bool) and bool not in expected
    if expected and (not isinstance(value, expected) or wrong_bool):
        raise ModuleActionError("INVALID_INPUT", f"'{module_id}.{key}' takes a {setting.type or expected[0].__name__}"
                                f", got {value!r}", field="value", status=422)
    return setting


@transaction.atomic
def set_value(*, module_id: str, key: str, value: Any, user: Any, organization: Any, role: str) -> SettingValue:
    """Store one value (the caller's own for a user setting, the organization's for an organization one)."""
    found = next((s for s in declared() if (s.module_id, s.key) == (module_id, key)), None)
    value = _coerce(found, value) if found is not None else value
    setting = _check(found, module_id, key, value, role)
    owner = user if setting.scope == "user" else None
    row, _ = SettingValue.objects.update_or_create(
        module_id=module_id, key=key, organization=organization, user=owner,
        defaults={"value": value, "updated_by": user})
    return row
