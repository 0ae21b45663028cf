"""The entitlement seams the runtime calls. The billing-and-entitlements issue fills them in.

Until then the rules are the documented defaults of DESIGN.md: every workflow is a capability
of its own name, open to every signed-in user on every plan; anonymous callers are refused.
Token usage is not metered yet (no plan catalog exists to meter against).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunPermission:
    """Whether a caller may start a workflow now; a denial carries a structured error."""

    allowed: bool
    error_code: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenBudget:
    """What remains of an organization's token budget after (or before) an LLM call."""

    exhausted: bool = False
    soft_warning: bool = False
    remaining: int | None = None


@dataclass(frozen=True)
class Decision:
    """The answer of :func:`decide`: granted or not, why, and the numbers behind a limit or meter."""

    granted: bool
    reason: str
    key: str
    limit: int | None = None
    used: int | None = None
    remaining: int | None = None
    soft: bool = False
    resets_at: Any = None


def decide(subject: Any, key: str) -> Decision:
    """May ``subject`` (an organization) use ``key``? Unknown keys deny (fail closed).

    No plan catalog exists yet, so every key is unknown and denied.
    """
    return Decision(granted=False, reason="UNKNOWN_KEY", key=key)


def check_run_allowed(*, user: Any, organization: Any, workflow_name: str, capability_id: str = "") -> RunPermission:
    """May ``user`` (acting for ``organization``) start ``workflow_name`` now? Fail closed for anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return RunPermission(False, "AUTHENTICATION_REQUIRED", "Sign in to start this workflow.")
    if organization is None:
        return RunPermission(False, "ORGANIZATION_REQUIRED", "Choose an organization to start this workflow.")
    return RunPermission(True)


def check_token_budget(*, organization: Any) -> TokenBudget:
    """Called before each LLM call: is the organization's token budget exhausted?"""
    return TokenBudget()


def meter_llm_tokens(*, organization: Any, user: Any, total_tokens: int, transaction_id: str) -> TokenBudget:
    """Called after each LLM call with its usage; ``transaction_id`` makes a retry a no-op."""
    return TokenBudget()


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


def capabilities_for(*, user: Any, organization: Any, workflow_names: list[str]) -> list[CapabilityView]:
    """Every capability visible to the caller, with ``allowed``; a workflow is its own capability."""
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    return [
        CapabilityView(capability_id=name, workflow_name=name, label=name, allowed=signed_in,
                       reason="" if signed_in else "AUTHENTICATION_REQUIRED")
        for name in sorted(workflow_names)
    ]


def resolve_capability(capability_id: str, workflow_names: list[str]) -> str | None:
    """The workflow a capability runs, or None when no such capability exists."""
    return capability_id if capability_id in workflow_names else None
