"""``app/config/capabilities.yaml``: capability id → workflow, enabled, visibility and its gate.

```yaml
capabilities:
  - id: research                 # what /api/ai/launch receives
    workflow: ResearchWorkflow   # the workflow bundle it runs
    label: Research assistant
    description: Finds and summarises sources.
    enabled: true                # false hides and refuses it
    visibility: user             # user | admin (owners and admins of the organization)
    entitlement: research        # a feature/limit/meter key the plan must grant, and/or
    plans: [pro, team]           # plans that may launch it
    capability_source: generated_module   # ownership class (default generated_module)
```

A workflow no capability names is a capability of its own name, open to every signed-in user
on every plan. Naming a workflow replaces that open capability with the declared ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import DatabaseError

from mozaiks_core.parsing import DocumentTooComplex, load_yaml
from mozaiks_core.validation import ERROR, WARNING, Problem

CAPABILITIES_RELATIVE_PATH = Path("config") / "capabilities.yaml"
VISIBILITIES = ("user", "admin")
# The ownership classes of the Mozaiks capability-pack model (the same five as modules and packs).
OWNERSHIP_CLASSES = ("host_universal", "framework_pack", "hosted_pack", "generated_module", "external_adapter")


@dataclass(frozen=True)
class CapabilitySpec:
    """One declared capability."""

    capability_id: str
    workflow: str
    label: str
    description: str = ""
    enabled: bool = True
    visibility: str = "user"
    entitlement: str = ""
    plans: tuple[str, ...] = ()
    ownership: str = "generated_module"


_cache: dict[str, tuple[float, list[CapabilitySpec], list[Problem]]] = {}


def capabilities_path() -> Path:
    """Where the file lives: ``<MOZAIKS_APP_DIR>/config/capabilities.yaml``."""
    return Path(settings.MOZAIKS_APP_DIR) / CAPABILITIES_RELATIVE_PATH


def parse_capabilities_text(text: str, file: str) -> tuple[list[CapabilitySpec], list[Problem]]:
    """Parse the file; invalid entries are dropped (and reported), valid ones are kept."""
    problems: list[Problem] = []

    def error(path: str, message: str, hint: str) -> None:
        """Record one problem of this file."""
        problems.append(Problem(ERROR, "entitlements.capabilities", file, path, message, hint))

    try:
        data = load_yaml(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader), file) or {}
    except DocumentTooComplex as exc:
        error("", exc.message, "write the file out plainly; until then no capability is declared")
        return [], problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        error(f"line {mark.line + 1}" if mark else "", f"YAML syntax error: {getattr(exc, 'problem', exc)}",
              "fix the YAML syntax; until then no capability is declared and every workflow is open")
        return [], problems
    items = data.get("capabilities") if isinstance(data, dict) else None
    if items is None:
        items = []
    if not isinstance(items, list):
        error("capabilities", "capabilities must be a list", "write 'capabilities:' followed by '- id: ...' entries")
        return [], problems
    specs: list[CapabilitySpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        spec = _parse_one(raw, f"capabilities[{index}]", error)
        if spec is None:
            continue
        if spec.capability_id in seen:
            error(f"capabilities[{index}].id", f"capability id {spec.capability_id!r} is declared twice",
                  "give every capability a unique id")
            continue
        seen.add(spec.capability_id)
        specs.append(spec)
    return specs, problems


def _parse_one(raw: Any, path: str, error: Any) -> CapabilitySpec | None:
    if not isinstance(raw, dict):
        error(path, "a capability must be a mapping", "write {id: ..., workflow: ...}")
        return None
    allowed = {"id", "workflow", "label", "description", "enabled", "visibility", "entitlement", "plans",
               "capability_source"}
    for name in sorted(set(raw) - allowed):
        error(f"{path}.{name}", f"unknown capability setting {name!r}", f"allowed: {', '.join(sorted(allowed))}")
    capability_id, workflow = raw.get("id"), raw.get("workflow") or raw.get("id")
    if not isinstance(capability_id, str) or not capability_id:
        error(f"{path}.id", "id is missing", "give the capability an id, e.g. 'id: research'")
        return None
    if not isinstance(workflow, str):
        error(f"{path}.workflow", "workflow must be a workflow name", "write the workflow's folder name")
        return None
    visibility = raw.get("visibility", "user")
    if visibility not in VISIBILITIES:
        error(f"{path}.visibility", f"visibility {visibility!r} is unknown", "use user or admin")
        return None
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        error(f"{path}.enabled", f"enabled {enabled!r} is not true/false", "write true or false")
        return None
    plans = raw.get("plans") or []
    if not isinstance(plans, list) or not all(isinstance(plan, str) for plan in plans):
        error(f"{path}.plans", "plans must be a list of plan ids", "write e.g. 'plans: [pro, team]'")
        return None
    entitlement = raw.get("entitlement") or ""
    if not isinstance(entitlement, str):
        error(f"{path}.entitlement", "entitlement must be one key", "write e.g. 'entitlement: research'")
        return None
    ownership = raw.get("capability_source", "generated_module")
    if ownership not in OWNERSHIP_CLASSES:
        error(f"{path}.capability_source", f"capability_source {ownership!r} is not an ownership class",
              f"use one of {', '.join(OWNERSHIP_CLASSES)}")
        return None
    return CapabilitySpec(capability_id=capability_id, workflow=workflow, label=str(raw.get("label") or capability_id),
                          description=str(raw.get("description") or ""), enabled=enabled, visibility=visibility,
                          entitlement=entitlement, plans=tuple(plans), ownership=ownership)


def declared_capabilities() -> list[CapabilitySpec]:
    """The valid declared capabilities (re-read when the file changes)."""
    return _load()[0]


def _load() -> tuple[list[CapabilitySpec], list[Problem]]:
    path = capabilities_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return [], []
    cached = _cache.get(str(path))
    if cached is None or cached[0] != mtime:
        specs, problems = parse_capabilities_text(path.read_text(encoding="utf-8"), str(path))
        cached = (mtime, specs, problems)
        _cache[str(path)] = cached
    return cached[1], cached[2]


def validate_capabilities_file() -> list[Problem]:
    """Problems of capabilities.yaml, plus gates that name keys or plans no plan declares."""
    specs, problems = _load()
    from mozaiks_core.billing.plans import plan_index

    try:
        index = plan_index()
    except DatabaseError:  # not migrated yet: the file's own problems are all we can tell
        return problems
    file = str(capabilities_path())
    known_workflows = _known_workflow_names()
    for number, spec in enumerate(specs):
        if known_workflows is not None and spec.workflow not in known_workflows:
            problems.append(Problem(WARNING, "entitlements.capabilities", file, f"capabilities[{number}].workflow",
                                    f"there is no workflow called {spec.workflow!r}, so {spec.capability_id!r} "
                                    "is never offered",
                                    "use a workflow_name from app/workflows/ (python manage.py mozaiks validate "
                                    "lists them) or fix its spelling"))
        if spec.entitlement and spec.entitlement not in index.key_kinds:
            problems.append(Problem(WARNING, "entitlements.capabilities", file, f"capabilities[{number}].entitlement",
                                    f"no plan declares {spec.entitlement!r}, so nobody can launch "
                                    f"{spec.capability_id!r}",
                                    "add the key to a plan in subscriptions.yaml or fix its spelling"))
        for plan in spec.plans:
            if plan not in index.plans:
                problems.append(Problem(WARNING, "entitlements.capabilities", file, f"capabilities[{number}].plans",
                                        f"plan {plan!r} does not exist", "use a plan_id from subscriptions.yaml"))
    return problems


_workflow_names_source: Callable[[], set[str]] | None = None


def provide_workflow_names(source: Callable[[], set[str]]) -> None:
    """The runtime names its workflows here (``AppConfig.ready``): entitlements never import the runtime."""
    global _workflow_names_source
    _workflow_names_source = source


def _known_workflow_names() -> set[str] | None:
    """Names of every workflow bundle found, loaded or broken (None if no runtime provides them)."""
    return None if _workflow_names_source is None else _workflow_names_source()


def capabilities_by_workflow(workflow_names: list[str]) -> list[CapabilitySpec]:
    """Every capability over the given workflows: declared ones, then open ones for unnamed workflows."""
    available = set(workflow_names)
    declared = [spec for spec in declared_capabilities() if spec.workflow in available]
    named = {spec.workflow for spec in declared_capabilities()}
    taken = {spec.capability_id for spec in declared}
    open_ones = [CapabilitySpec(capability_id=name, workflow=name, label=name)
                 for name in sorted(available - named) if name not in taken]
    return declared + open_ones
