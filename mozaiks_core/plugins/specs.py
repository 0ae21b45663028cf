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
    # A plan limit this action adds to: {key, model, organization_field?, where?} (see entitlements.counted)
    counted_limit: dict[str, Any] | None = None


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
    ownership: str = "generated_module"
    source_pack_id: str = ""
    permissions: dict[str, PermissionSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    events: dict[str, EventSpec] = field(default_factory=dict)
    reactions: tuple[ReactionSpec, ...] = ()
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    notification_categories: tuple[dict[str, Any], ...] = ()
    admin_models: tuple[dict[str, Any], ...] = ()
    admin_panels: tuple[str, ...] = ()
    api_routers: tuple[str, ...] = ()
    startup_services: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    backend_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackSpec:
    """A capability pack manifest (``manifest.yaml``) found under a pack root.

    Every field of the published pack model is kept. Some drive loading (``requires``,
    ``contributes``, ``supersedes``, ``capability_source``, ``adapter_template``); the others are
    carried for builders and shown in the admin (``pack_type``, ``supported_domains``, ``branding``,
    ``generation_rules``, ``hard_constraints``, ``surfaces``).
    """

    id: str
    label: str
    version: str
    visibility: str
    folder: Path
    manifest: Path | None = None
    description: str = ""
    summary: str = ""
    pack_type: str = ""
    implementation_mode: str = ""
    delivery_mode: str = "app_embedded"
    ownership: str = "framework_pack"
    licensed_services: tuple[str, ...] = ()
    connectors: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    admin_sections: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    hard_constraints: tuple[str, ...] = ()
    surfaces: tuple[dict[str, Any], ...] = ()
    supported_domains: tuple[str, ...] = ()
    branding: dict[str, Any] = field(default_factory=dict)
    generation_rules: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    adapter_template: str = ""
    enabled: bool = False
    status: str = "available"

    @property
    def overlay(self) -> Path | None:
        """The pack's ``app_overlay/`` (a promotable workspace fragment), when it ships one."""
        folder = self.folder / "app_overlay"
        return folder if folder.is_dir() else None


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
    source_pack_id: str = ""


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
    landing_spot: str = ""
    startup_mode: str = ""
    host_mode: str = "oss"
    provenance: dict[str, str] = field(default_factory=dict)
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
