"""Module-declared counted limits: an action that adds a row counts against a plan limit.

An action declares ``counted_limit: {key, model, organization_field?, where?}`` in
``module.yaml``; the key must be a limit of the catalog. At start each declaration is registered
with :func:`~mozaiks_core.entitlements.counted.register_counted_limit` (so ``decide(org, key)``
reports the real count), and :func:`~mozaiks_core.plugins.actions.run_action` enforces it inside
the action's transaction before the handler runs.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Expression

from mozaiks_core.entitlements.counted import count_rows, register_counted_limit
from mozaiks_core.plugins.specs import ModuleSpec


def _model(module: ModuleSpec, name: str) -> Any:
    for config in apps.get_app_configs():
        if config.name == module.import_name:
            return config.get_model(name)
    raise LookupError(f"module {module.id!r} is not an installed app; its model {name!r} cannot be counted")


def _lazy_count(module: ModuleSpec, declaration: dict[str, Any]) -> Any:
    """The count expression, resolving the module's model on first use (after every app is ready)."""

    def expression() -> Expression:
        model = _model(module, declaration["model"])
        return count_rows(model, organization_field=declaration.get("organization_field", "organization"),
                          where=declaration.get("where"))()

    return expression


def register_module_limits(modules: dict[str, ModuleSpec]) -> None:
    """Register every action's ``counted_limit`` declaration."""
    for module in modules.values():
        for action in module.actions.values():
            if action.counted_limit:
                register_counted_limit(action.counted_limit["key"], _lazy_count(module, action.counted_limit),
                                       source=f"module {module.id}")
