"""The seam auth's actions call before they add something a plan counts (a seat, an API key).

Auth sits below entitlements (entitlements imports auth, never the reverse), so the check
itself is installed by the entitlements app when Django starts
(:func:`mozaiks_core.entitlements.limits.enforce_limit`). Each call happens inside the action's
transaction; the guard locks the organization's row, so concurrent additions are counted one
after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mozaiks_core.auth.models import Organization


@dataclass(frozen=True)
class LimitStatus:
    """How much of a limit an organization uses, as a page shows it ("3 of 3 seats used")."""

    key: str
    label: str
    used: int
    limit: int | None
    phrase: str
    at_limit: bool
    upgrade_url: str


LimitGuard = Callable[[Organization, str, int], None]
LimitDescriber = Callable[[Organization, str], "LimitStatus | None"]
_guard: list[LimitGuard] = []
_describer: list[LimitDescriber] = []

SEATS = "members"  # the catalog key of seats: members plus pending invitations
API_KEYS = "api_keys"


def install_limit_guard(guard: LimitGuard, describe: LimitDescriber) -> None:
    """Install the check :func:`guard_addition` runs and the :func:`limit_status` reader (entitlements' ``ready()``)."""
    _guard[:] = [guard]
    _describer[:] = [describe]


def limit_status(organization: Organization, key: str) -> LimitStatus | None:
    """How much of ``key`` the organization uses under its plan (None: nothing limits it)."""
    for describe in _describer:
        return describe(organization, key)
    return None


def guard_addition(organization: Organization, key: str, adding: int = 1) -> None:
    """Raise (an ``ActionRefused`` with status 402) when ``adding`` more of ``key`` would pass the plan's limit.

    ``adding=0`` checks that what is there now fits (after a change that moved a count, such as an
    invitation becoming a membership).
    """
    for guard in _guard:
        guard(organization, key, adding)
