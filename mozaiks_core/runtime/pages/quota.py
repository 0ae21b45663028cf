"""The organization's token quota as the chat pages show it, degrading to nothing when unknown.

The entitlements app owns the numbers; this module only asks it, and hides the quota widget
(rather than failing the page) when no plan meters tokens or the seam is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from mozaiks_core.entitlements import services as entitlements


@dataclass(frozen=True)
class QuotaSummary:
    """How much of its token meter an organization has used in the current period."""

    key: str
    limit: int
    used: int
    remaining: int
    resets_at: Any = None

    @property
    def percent_used(self) -> int:
        """Share of the limit already used, 0–100, for the progress bar."""
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100

    @property
    def state(self) -> str:
        """"ok", "warning" (past ``MOZAIKS_QUOTA_WARNING_PERCENT``) or "limit" (used up): the bar's colour."""
        if self.used >= self.limit:
            return "limit"
        return "warning" if 100 * self.used >= entitlements.quota_warning_percent() * self.limit else "ok"


def token_meter_key() -> str:
    """The meter LLM tokens count against, as the entitlements app names it."""
    key_function = getattr(entitlements, "token_meter_key", None)
    return key_function() if callable(key_function) else "tokens_monthly"


def organization_quota(organization: Any) -> QuotaSummary | None:
    """The token quota of ``organization``, or None when no plan meters tokens for it."""
    if organization is None:
        return None
    key = token_meter_key()
    decision = entitlements.decide(organization, key)
    if decision.limit is None or decision.used is None:
        return None
    remaining = decision.remaining if decision.remaining is not None else max(0, decision.limit - decision.used)
    return QuotaSummary(key=key, limit=decision.limit, used=decision.used, remaining=remaining,
                        resets_at=decision.resets_at)


def upgrade_url() -> str:
    """Where a user whose quota ran out can change plan (the pricing page when billing has one)."""
    builder = getattr(entitlements, "upgrade_url", None)
    try:
        return builder(token_meter_key()) if callable(builder) else reverse("mozaiks_billing:pricing")
    except NoReverseMatch:
        return "/billing/"
