"""Validated, immutable views of the workspace: what the loader produces and everything else reads.

Nothing here touches the disk or Django; the loader builds these once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mozaiks_core.validation import ERROR, Problem


@dataclass(frozen=True)
class PermissionSpec:
    """A module permission and the organization roles that hold it."""

    id: str
    description: str = ""
    roles: tuple[str, ...] = ("owner", "admin", "member")


@dataclass(frozen=True)
class ActionSpec:
    """One module action, mounted at ``/api/modules/<module>/<action>``."""

    id: str
    handler_method: str
    type: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] | None = None
    permissions: tuple[str, ...] = ()
    emits: tuple[str, ...] = ()
    entitlement_gate: str | None = None
    auth: str = "required"


@dataclass(frozen=True)
class EventSpec:
    """A domain event a module declares in ``contracts/events.yaml``."""

    type: str
    description: str = ""
    payload_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReactionSpec:
    """A reaction of ``contracts/reactions.yaml``; ``key`` (``module.reaction``) names it in deliveries."""

    module_id: str
    id: str
    on: str
    kind: str
    handler_method: str = ""
    notification: dict[str, Any] = field(default_factory=dict)
    capability_id: str = ""
    message: str = ""
    max_attempts: int = 0
    callable_path: str = ""

    @property
    def key(self) -> str:
        """The stable identity of this reaction in delivery records."""
        return f"{self.module_id}.{self.id}"


@dataclass(frozen=True)
class ModuleSpec:
    """A module folder that passed validation and is installed as a Django app."""

    id: str
    display_name: str
    version: str
    description: str
    folder: Path
    import_name: str
    handler: str = ""
    source: str = "app"
    permissions: dict[str, PermissionSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    events: dict[str, EventSpec] = field(default_factory=dict)
    reactions: tuple[ReactionSpec, ...] = ()
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    notification_categories: tuple[dict[str, Any], ...] = ()
    admin_models: tuple[dict[str, Any], ...] = ()
    api_router: str = ""
    startup_service: str = ""


@dataclass(frozen=True)
class PackSpec:
    """A capability pack manifest found under a pack root."""

    id: str
    label: str
    version: str
    visibility: str
    folder: Path
    description: str = ""
    licensed_services: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    hard_constraints: tuple[str, ...] = ()
    enabled: bool = False
    status: str = "available"


@dataclass(frozen=True)
class PageSpec:
    """A declarative page of ``ui/pages/*.yaml`` (or a pack's ``pages/``)."""

    id: str
    title: str
    route: str
    blocks: tuple[dict[str, Any], ...]
    auth: str = "required"
    description: str = ""
    file: str = ""


@dataclass(frozen=True)
class NavItem:
    """One navigation entry of the shell."""

    label: str
    href: str
    auth: str = "public"
    icon: str = ""
    order: int = 100
    roles: tuple[str, ...] = ()  # organization roles that may open it (empty: every role)


@dataclass
class Workspace:
    """Everything read from ``MOZAIKS_APP_DIR`` and the enabled packs, plus every problem found."""

    app_dir: Path
    app_id: str = "app"
    app_name: str = "MozaiksCore"
    version: str = "0.0.0"
    selected_packs: tuple[str, ...] = ()
    modules: dict[str, ModuleSpec] = field(default_factory=dict)
    packs: dict[str, PackSpec] = field(default_factory=dict)
    pages: dict[str, PageSpec] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    navigation: tuple[NavItem, ...] = ()
    brand: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    shell: dict[str, Any] = field(default_factory=dict)
    workflow_dirs: tuple[Path, ...] = ()
    failed_modules: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def errors(self) -> list[Problem]:
        """Only the problems that make something unavailable."""
        return [problem for problem in self.problems if problem.level == ERROR]

    def reactions(self) -> list[ReactionSpec]:
        """Every reaction of every loaded module."""
        return [reaction for module in self.modules.values() for reaction in module.reactions]

    def event(self, event_type: str) -> EventSpec | None:
        """The declaration of ``event_type`` (None when no loaded module declares it)."""
        module_id = event_type.split(".")[1] if event_type.count(".") >= 2 else ""
        module = self.modules.get(module_id)
        return module.events.get(event_type) if module else None

    def page_for_route(self, route: str) -> PageSpec | None:
        """The page served at ``route`` (``/`` for the home page)."""
        page_id = self.routes.get(route)
        return self.pages.get(page_id) if page_id else None
