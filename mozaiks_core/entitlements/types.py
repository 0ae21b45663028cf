"""The values the entitlement seams return (re-exported by :mod:`mozaiks_core.entitlements.services`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GRANTED = "GRANTED"
SOFT_LIMIT_EXCEEDED = "SOFT_LIMIT_EXCEEDED"
ENTITLEMENT_REQUIRED = "ENTITLEMENT_REQUIRED"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
UNKNOWN_KEY = "UNKNOWN_KEY"
NO_ORGANIZATION = "NO_ORGANIZATION"


@dataclass(frozen=True)
class RunPermission:
    """Whether a caller may start a workflow now; a denial carries a structured error.

    ``details`` is the JSON body of the denial (``error``, ``key``, ``message``, ``upgrade_url``
    ...) and ``http_status`` the status to send it with (402 when a plan change fixes it, else 403).
    """

    allowed: bool
    error_code: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    http_status: int = 200


@dataclass(frozen=True)
class TokenBudget:
    """What remains of an organization's token budget after (or before) an LLM call."""

    exhausted: bool = False
    soft_warning: bool = False
    remaining: int | None = None
    limit: int | None = None
    used: int | None = None
    reserve: bool = False  # a hard limit: every LLM call must reserve its estimate first
    plan_id: str = ""


@dataclass(frozen=True)
class Decision:
    """The answer of ``decide``: granted or not, why, and the numbers behind a limit or meter."""

    granted: bool
    reason: str
    key: str
    limit: int | None = None
    used: int | None = None
    remaining: int | None = None
    soft: bool = False
    resets_at: Any = None
    kind: str = ""
    plan_id: str = ""


@dataclass(frozen=True)
class CapabilityView:
    """A capability as a caller sees it: what it runs and whether this caller may launch it."""

    capability_id: str
    workflow_name: str
    label: str
    description: str = ""
    visibility: str = "user"
    allowed: bool = True
    reason: str = ""
    ownership: str = "generated_module"
    message: str = ""  # why it is not allowed, in words a user can act on
