"""Read side of the plan catalog in the database: a small cached index every decision uses.

Plans change rarely (a sync or an admin edit), decisions happen on every gated call, so the
index is kept in Django's cache and dropped whenever a plan is saved or deleted. With a
per-process cache (the embedded default) other processes see an edit within ``INDEX_TTL`` s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction

from mozaiks_core.billing.catalog import MeterSpec

INDEX_CACHE_KEY = "mozaiks:billing:plan-index:v1"
INDEX_TTL = 60
# Where entitlements cache an organization's rules for one request (billing drops it on plan changes).
ENTITLEMENTS_CACHE_ATTR = "_mozaiks_entitlements"


@dataclass(frozen=True)
class PlanRules:
    """What a plan grants: features, limits and meters (the inputs of decide())."""

    plan_id: str
    label: str
    trial_days: int = 0
    features: dict[str, bool] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    meters: dict[str, MeterSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanIndex:
    """Every plan's rules, the default plan, and the kind of every key any plan declares."""

    plans: dict[str, PlanRules]
    default_plan_id: str | None
    key_kinds: dict[str, str]  # key -> "feature" | "limit" | "meter"
    meter_specs: dict[str, MeterSpec]  # key -> the first declaring plan's spec (for overrides)

    def rules(self, plan_id: str | None) -> PlanRules | None:
        """The rules of ``plan_id``, or None when it does not exist."""
        return self.plans.get(plan_id or "")

    @property
    def default(self) -> PlanRules | None:
        """The default plan's rules (None when the catalog is empty)."""
        return self.rules(self.default_plan_id)


def meter_from_json(key: str, raw: dict[str, Any]) -> MeterSpec:
    """A MeterSpec from the JSON stored on a plan."""
    return MeterSpec(key=key, limit=raw.get("limit"), reset=raw.get("reset", "month"),
                     enforcement=raw.get("enforcement", "hard"),
                     provider_event_name=raw.get("provider_event_name", "") or "")


def _build_index() -> PlanIndex:
    from mozaiks_core.billing.models import Plan

    plans: dict[str, PlanRules] = {}
    kinds: dict[str, str] = {}
    meter_specs: dict[str, MeterSpec] = {}
    default_plan_id: str | None = None
    for plan in Plan.objects.all():
        meters = {key: meter_from_json(key, raw) for key, raw in (plan.meters or {}).items()}
        plans[plan.plan_id] = PlanRules(plan_id=plan.plan_id, label=plan.label, trial_days=plan.trial_days,
                                        features=dict(plan.features or {}), limits=dict(plan.limits or {}),
                                        meters=meters)
        for key in plan.features or {}:
            kinds.setdefault(key, "feature")
        for key in plan.limits or {}:
            kinds.setdefault(key, "limit")
        for key, spec in meters.items():
            kinds.setdefault(key, "meter")
            meter_specs.setdefault(key, spec)
        if plan.is_default:
            default_plan_id = plan.plan_id
    return PlanIndex(plans=plans, default_plan_id=default_plan_id, key_kinds=kinds, meter_specs=meter_specs)


def plan_index() -> PlanIndex:
    """The cached plan index (built from the database on a miss)."""
    index = cache.get(INDEX_CACHE_KEY)
    if index is None:
        index = _build_index()
        cache.set(INDEX_CACHE_KEY, index, INDEX_TTL)
    return index


def invalidate_plan_index(**_: Any) -> None:
    """Drop the cached index now and again after commit (connected to Plan's post_save and post_delete)."""
    cache.delete(INDEX_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(INDEX_CACHE_KEY))
