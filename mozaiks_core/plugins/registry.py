"""The running process's view of the workspace and plugins: loaded once, checked once at ``ready()``.

Module handlers are imported lazily and cached; a handler that fails to import disables its own
module's actions and reactions (reported as ``mozaiks.E005``), never the others.
"""

from __future__ import annotations

import fnmatch
import importlib
from typing import Any

from django.conf import settings

from mozaiks_core.plugins.bootstrap import cached_workspace, python_plugins
from mozaiks_core.plugins.plugin_host import LoadedPlugin, plugin_problems
from mozaiks_core.plugins.specs import ModuleSpec, ReactionSpec, Workspace
from mozaiks_core.validation import ERROR, Problem

_handlers: dict[str, Any] = {}
_broken: dict[str, str] = {}
_runtime_problems: list[Problem] = []


class HandlerUnavailable(RuntimeError):
    """A module's handler class (or one of its methods) cannot be used; the message says why."""


def get_workspace() -> Workspace:
    """The workspace of the configured ``MOZAIKS_APP_DIR`` (memory only after the first call)."""
    return cached_workspace(settings.MOZAIKS_APP_DIR, getattr(settings, "MOZAIKS_PACK_ROOTS", []),
                            getattr(settings, "MOZAIKS_LICENSED_SERVICES", []),
                            host_mode=getattr(settings, "MOZAIKS_HOST_MODE", "oss"),
                            connectors=getattr(settings, "MOZAIKS_CONNECTORS", []))


def loaded_plugins() -> list[LoadedPlugin]:
    """Every discovered entry-point plugin with its status."""
    return python_plugins()


def import_dotted(base: str, reference: str) -> Any:
    """Resolve ``"backend.handler:Class"`` relative to the package ``base`` (``base`` may be empty)."""
    module_path, _, attribute = reference.partition(":")
    module = importlib.import_module(f"{base}.{module_path}" if base else module_path)
    return getattr(module, attribute)


def handler_for(module: ModuleSpec) -> Any:
    """The module's handler instance (one per process)."""
    if module.id in _broken:
        raise HandlerUnavailable(_broken[module.id])
    if module.id not in _handlers:
        try:
            _handlers[module.id] = import_dotted(module.import_name, module.handler)()
        except Exception as exc:
            message = f"handler '{module.handler}' of module '{module.id}' cannot be loaded: {exc!r}"
            _broken[module.id] = message
            raise HandlerUnavailable(message) from exc
    return _handlers[module.id]


def method_for(module: ModuleSpec, name: str) -> Any:
    """A bound handler method, or :class:`HandlerUnavailable` naming what is missing."""
    method = getattr(handler_for(module), name, None)
    if not callable(method):
        raise HandlerUnavailable(f"handler '{module.handler}' of module '{module.id}' has no method '{name}'")
    return method


def preflight_for(module: ModuleSpec) -> Any:
    """``preflight(ctx, action_id, data)`` of the module's ``backend/policy.py``, or None without one.

    The generated-module contract gives ``policy.py`` the ownership preflight: it runs before every
    action and refuses one by raising ``ModuleActionError``.
    """
    if "policy.py" not in module.backend_files:
        return None
    key = f"{module.id}:policy"
    if key in _broken:
        raise HandlerUnavailable(_broken[key])
    if key not in _handlers:
        try:
            _handlers[key] = getattr(importlib.import_module(f"{module.import_name}.backend.policy"),
                                     "preflight", None)
        except Exception as exc:
            _broken[key] = f"backend/policy.py of module '{module.id}' cannot be loaded: {exc!r}"
            raise HandlerUnavailable(_broken[key]) from exc
    return _handlers[key]


def plugin_reactions() -> list[ReactionSpec]:
    """Reactions declared by loaded entry-point plugins (``handler`` is a dotted callable)."""
    reactions = []
    for loaded in loaded_plugins():
        if loaded.status == "loaded" and loaded.plugin is not None:
            reactions += [ReactionSpec(module_id=f"plugin.{loaded.name}", id=raw["id"], on=raw["on"],
                                       kind="handler", callable_path=raw["handler"])
                          for raw in loaded.plugin.reactions]
    return reactions


def all_reactions() -> dict[str, ReactionSpec]:
    """Every reaction by key: workspace modules first, then plugins."""
    return {reaction.key: reaction for reaction in [*get_workspace().reactions(), *plugin_reactions()]}


def reactions_for(event_type: str) -> list[ReactionSpec]:
    """The reactions that listen to ``event_type`` (``on`` may use ``*`` wildcards)."""
    return [reaction for reaction in all_reactions().values() if fnmatch.fnmatchcase(event_type, reaction.on)]


def verify_handlers() -> list[Problem]:
    """Import every handler and check that each action and reaction names an existing method."""
    problems: list[Problem] = []
    workspace = get_workspace()
    for module in workspace.modules.values():
        if not module.handler:
            continue
        manifest = str(module.folder / "module.yaml")
        try:
            handler = handler_for(module)
        except HandlerUnavailable as exc:
            problems.append(Problem(ERROR, "mozaiks.E005", manifest, "module.handler", str(exc),
                                    "fix the import path or the code; this module is disabled meanwhile"))
            continue
        for index, action in enumerate(module.actions.values()):
            if not callable(getattr(handler, action.handler_method, None)):
                problems.append(Problem(ERROR, "mozaiks.E005", manifest, f"actions[{index}].handler_method",
                                        f"handler '{module.handler}' has no method '{action.handler_method}'",
                                        "add the method or fix the name"))
        for index, reaction in enumerate(module.reactions):
            if reaction.kind == "handler" and not callable(getattr(handler, reaction.handler_method, None)):
                problems.append(Problem(ERROR, "mozaiks.E006", str(module.folder / "contracts/reactions.yaml"),
                                        f"reactions[{index}].handler_method",
                                        f"reaction '{reaction.id}' names unknown handler method "
                                        f"'{reaction.handler_method}' of '{module.handler}'",
                                        "add the method to the handler class or fix the name"))
    _runtime_problems[:] = problems
    return problems


def all_problems() -> list[Problem]:
    """Workspace, plugin and handler problems together (what checks and ``mozaiks validate`` show)."""
    return [*get_workspace().problems, *plugin_problems(loaded_plugins()), *_runtime_problems]


def broken_modules() -> dict[str, str]:
    """Modules whose handler could not be loaded, with the reason."""
    return dict(_broken)
