"""Data scopes of the plugin host's API, for the org-scoping check.

The shell's navigation and theme are workspace configuration (no account data): public. Module
actions are mounted generically at ``/api/modules/<module>/<action>``, so their scopes are
derived from ``module.yaml``: an action with ``auth: public`` runs without a caller (public);
any other action runs in the caller's organization (``ModuleContext.organization``), so it is
org-scoped, with ``manage`` when one of its permissions is not held by plain members.

A module proves its isolation with factories: ``<module package>.api_scopes.SCOPE_FACTORIES``
maps an action id to ``factory(organization, owner) -> ScopedCall`` (a resource of org A and a
marker only org A's answer contains). Without one, the action is called with an empty input.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.scoping import PUBLIC, DataScope, ScopedCall, ScopeFactory, org_scope, route_key
from mozaiks_core.plugins.registry import get_workspace
from mozaiks_core.plugins.specs import ActionSpec, ModuleSpec

PLAIN_MEMBER_ROLE = Membership.Role.MEMBER


def empty_input(organization: Organization, owner: Any) -> ScopedCall:
    """The action called with no input (for actions whose module gives no factory)."""
    return ScopedCall()


def module_factories(module: ModuleSpec) -> dict[str, ScopeFactory]:
    """``SCOPE_FACTORIES`` of the module's ``api_scopes`` module (empty when it has none)."""
    name = f"{module.import_name}.api_scopes"
    try:
        if importlib.util.find_spec(name) is None:
            return {}
    except ModuleNotFoundError:
        return {}
    return dict(getattr(importlib.import_module(name), "SCOPE_FACTORIES", {}) or {})


def action_scope(module: ModuleSpec, action: ActionSpec, factory: ScopeFactory | None) -> DataScope:
    """The scope ``module.yaml`` implies for one action."""
    if action.auth == "public":
        return PUBLIC
    manage = any(PLAIN_MEMBER_ROLE not in module.permissions[permission].roles
                 for permission in action.permissions if permission in module.permissions)
    return org_scope(factory or empty_input, manage=manage)


def module_action_scopes() -> dict[str, DataScope]:
    """One declaration per mounted operation of every loaded module's actions."""
    scopes: dict[str, DataScope] = {}
    for module in get_workspace().modules.values():
        factories = module_factories(module)
        for action in module.actions.values():
            scope = action_scope(module, action, factories.get(action.id))
            methods = ("GET", "POST") if action.type == "query" else ("POST",)
            for method in methods:
                scopes[route_key(method, f"/api/modules/{module.id}/{action.id}")] = scope
    return scopes


def API_SCOPES() -> dict[str, DataScope]:
    """The plugin host's declarations (a callable: module actions are known once the workspace loaded)."""
    return {
        "mozaiks_core.plugins.api.navigation": PUBLIC,
        "mozaiks_core.plugins.api.theme": PUBLIC,
        **module_action_scopes(),
    }
