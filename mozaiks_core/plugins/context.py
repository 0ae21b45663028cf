"""What a module handler receives instead of reaching for globals: who, for which organization,
which entitlements, the module's settings and an event publisher bound to the module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings as django_settings

from mozaiks_core.entitlements import services as entitlements
from mozaiks_core.plugins.specs import ModuleSpec


class ModuleActionError(Exception):
    """A handler's declared error: answered as structured JSON with ``status`` (never a 500).

    ``field`` names the input field at fault so forms can show the message next to it.
    """

    def __init__(self, code: str, message: str, *, field: str = "", status: int = 400,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.details = details or {}


class Entitlements:
    """The organization's entitlements, asked through the one fail-closed decision API."""

    def __init__(self, organization: Any) -> None:
        self.organization = organization

    def decide(self, key: str) -> entitlements.Decision:
        """The full decision for ``key``."""
        return entitlements.decide(self.organization, key)

    def allows(self, key: str) -> bool:
        """Whether ``key`` is granted."""
        return self.decide(key).granted


def module_settings(module: ModuleSpec, user: Any = None, organization: Any = None) -> dict[str, Any]:
    """Defaults of the module's ``contracts/settings.yaml`` overridden by ``MOZAIKS_PLUGINS_CONFIG[<module id>]``,
    then (with the settings pack) by the organization's and the user's stored values."""
    configured = (getattr(django_settings, "MOZAIKS_PLUGINS_CONFIG", {}) or {}).get(module.id) or {}
    defaults = {key: spec.get("default") for key, spec in module.settings.items()}
    stored: dict[str, Any] = {}
    if organization is not None and apps.is_installed("mozaiks_core.packs.settings"):
        from mozaiks_core.packs.settings.services import overrides

        stored = overrides(module, user, organization)
    return {**defaults, **configured, **stored}


@dataclass
class ModuleContext:
    """Per-call context handed to every handler method (actions and reactions)."""

    module: ModuleSpec
    user: Any
    organization: Any
    role: str = ""
    correlation_id: str = ""
    event: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entitlements = Entitlements(self.organization)
        if not self.settings:
            self.settings = module_settings(self.module, self.user, self.organization)

    @property
    def module_id(self) -> str:
        """The id of the module the handler belongs to."""
        return self.module.id

    def publish(self, event_type: str, payload: dict[str, Any], *, subject: Any = None) -> Any:
        """Publish a domain event of this module (``fact`` or the full ``domain.<module>.<fact>``)."""
        from mozaiks_core.plugins.events import publish

        full_type = event_type if event_type.startswith("domain.") else f"domain.{self.module.id}.{event_type}"
        if full_type.split(".")[1] != self.module.id:
            raise ValueError(f"module '{self.module.id}' cannot publish '{full_type}': "
                             "modules publish only their own events")
        return publish(full_type, payload, subject=subject, actor=self.user, organization=self.organization,
                       correlation_id=self.correlation_id or None)
