"""Enforcing counted limits where they are consumed, and showing them ("3 of 3 seats used").

:func:`enforce_limit` is the check every addition runs inside its transaction: it locks the
organization's row (so two concurrent invitations are counted one after the other on
PostgreSQL; SQLite serializes writers anyway), counts what the organization holds now and
refuses with :class:`LimitExceeded` (HTTP 402 ``LIMIT_EXCEEDED``) when the addition would pass
the plan's limit. A downgrade below a limit deletes nothing: what exists stays usable and only
new additions are refused until the count is back under the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from mozaiks_core.auth.limits import LimitStatus
from mozaiks_core.auth.models import Organization
from mozaiks_core.auth.services import ActionRefused
from mozaiks_core.billing.catalog import key_spec
from mozaiks_core.entitlements.counted import counted_limit, counted_limits
from mozaiks_core.entitlements.decisions import entitlements_for


def plural(unit: str, count: int | None) -> str:
    """``unit`` for ``count`` things ("seat" → "seats"; an empty unit stays empty)."""
    if not unit or count == 1:
        return unit
    return unit if unit.endswith("s") else f"{unit}s"


def used_phrase(key: str, used: int, limit: int | None) -> str:
    """"3 of 3 seats used" (or "4 seats used, no limit")."""
    spec = key_spec(key, "limit")
    unit = plural(spec.unit, limit if limit is not None else used) or spec.label
    if limit is None:
        return f"{used} {unit} used, no limit"
    return f"{used} of {limit} {unit} used"


class LimitExceeded(ActionRefused):
    """An addition the plan's limit does not allow: 402 ``{error: LIMIT_EXCEEDED, key, limit, used, ...}``."""

    def __init__(self, key: str, limit: int, used: int, plan_label: str) -> None:
        from mozaiks_core.entitlements.services import upgrade_url

        spec = key_spec(key, "limit")
        things = plural(spec.unit, 2) or spec.label
        message = (f"{used_phrase(key, used, limit)} on the {plan_label} plan. Free one up, or upgrade to a plan "
                   f"with more {things}.")
        super().__init__("LIMIT_EXCEEDED", message, 402, details={
            "key": key, "label": spec.label, "limit": limit, "used": used, "upgrade_url": upgrade_url(key)})
        self.key, self.limit, self.used = key, limit, used


def _lock(organization: Organization) -> None:
    """Serialize the additions of one organization for the rest of the caller's transaction."""
    if transaction.get_connection().in_atomic_block:
        Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True).first()


def enforce_limit(organization: Organization, key: str, adding: int = 1) -> None:
    """Refuse (:class:`LimitExceeded`) when ``adding`` more of ``key`` would pass the organization's limit.

    ``adding=0`` checks the current count (after a change that moved it). A key the plan does not
    limit (or no plan declares) is not refused here: decide() already fails closed on unknown
    keys for gates, and an addition nothing limits is allowed.
    """
    counted = counted_limit(key)
    if counted is None:
        return
    _lock(organization)
    entitlements = entitlements_for(organization, fresh=True)
    if key not in entitlements.limits:
        return
    limit = entitlements.limits[key]
    if limit is None:
        return
    used = counted.count(organization.pk)
    entitlements.limit_used = {**(entitlements.limit_used or {}), key: used}
    if used + adding > limit:
        raise LimitExceeded(key, limit, used, entitlements.plan_label)


def describe_limit(organization: Organization, key: str) -> LimitStatus | None:
    """:class:`~mozaiks_core.auth.limits.LimitStatus` of ``key`` for auth's pages (None when the plan has no limit)."""
    from mozaiks_core.entitlements.decisions import decide_for
    from mozaiks_core.entitlements.services import upgrade_url

    entitlements = entitlements_for(organization)
    if key not in entitlements.limits or counted_limit(key) is None:
        return None
    decision = decide_for(entitlements, key)
    used, limit = decision.used or 0, decision.limit
    return LimitStatus(key=key, label=key_spec(key, "limit").label, used=used, limit=limit,
                       phrase=used_phrase(key, used, limit), at_limit=limit is not None and used >= limit,
                       upgrade_url=upgrade_url(key))


@dataclass(frozen=True)
class LimitUsage:
    """One counted limit of the organization's plan, as pages show it."""

    key: str
    label: str
    description: str
    used: int
    limit: int | None
    phrase: str  # "3 of 3 seats used"
    at_limit: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"key": self.key, "label": self.label, "description": self.description, "used": self.used,
                "limit": self.limit, "phrase": self.phrase, "at_limit": self.at_limit}


def limit_usage(organization: Organization) -> list[LimitUsage]:
    """Every counted limit of the organization's plan with what is used now."""
    from mozaiks_core.entitlements.decisions import decide_for

    entitlements = entitlements_for(organization)
    rows = []
    for key in sorted(set(entitlements.limits) & set(counted_limits())):
        decision = decide_for(entitlements, key)
        used, limit = decision.used or 0, decision.limit
        spec = key_spec(key, "limit")
        rows.append(LimitUsage(key=key, label=spec.label, description=spec.description, used=used, limit=limit,
                               phrase=used_phrase(key, used, limit), at_limit=limit is not None and used >= limit))
    return rows
