"""decide(): plan + per-organization overrides + trial state → one fail-closed Decision.

An organization's rules are loaded in one query (subscription, plan id and overrides joined),
its meter counters in a second, lazily, on the first meter decision, and what it holds of its
counted limits (seats, API keys, module rows) in a third, lazily, on the first counted limit;
all are kept on the organization instance, so one gated key costs at most two queries and a
request that decides keys of every kind at most three. Seams that must see other processes' writes pass ``fresh=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.catalog import MeterSpec
from mozaiks_core.billing.plans import ENTITLEMENTS_CACHE_ATTR, PlanRules, plan_index
from mozaiks_core.entitlements import types as t
from mozaiks_core.entitlements.counted import counted_limit, counted_limits
from mozaiks_core.entitlements.models import UsageCounter
from mozaiks_core.entitlements.periods import period_bounds

CACHE_ATTR = ENTITLEMENTS_CACHE_ATTR
ACTIVE_STATUSES = {"active", "past_due"}


@dataclass
class OrgEntitlements:
    """What one organization is entitled to right now (its plan after overrides and trial state)."""

    organization_id: int
    plan_id: str
    plan_label: str
    status: str  # subscription status, "default" (no subscription) or "trial_expired"
    trial_end: datetime | None
    features: dict[str, bool]
    limits: dict[str, int | None]
    meters: dict[str, MeterSpec]
    key_kinds: dict[str, str]
    counters: dict[str, int] | None = None  # meter key -> used in its current period
    limit_used: dict[str, int] | None = None  # counted limit key -> held now (read once, on the first one)
    loaded_at: datetime = field(default_factory=timezone.now)

    def period(self, meter: MeterSpec, now: datetime | None = None) -> tuple[datetime, datetime | None]:
        """The current period of ``meter``."""
        return period_bounds(meter.reset, now or timezone.now())


def _effective_plan(status: str | None, trial_end: datetime | None, plan_id: str | None) -> tuple[str | None, str]:
    if status is None:
        return None, "default"
    if status == "trialing":
        if trial_end is not None and trial_end <= timezone.now():
            return None, "trial_expired"
        return plan_id, status
    if status in ACTIVE_STATUSES:
        return plan_id, status
    return None, status


def load_entitlements(organization_id: int) -> OrgEntitlements:
    """Load one organization's rules and the counts of its counted limits: one query, plus the cached plan index."""
    index = plan_index()
    rows = list(
        Organization.objects.filter(pk=organization_id).values(
            "billing_subscription__status",
            "billing_subscription__trial_end",
            "billing_subscription__plan__plan_id",
            "entitlement_overrides__key",
            "entitlement_overrides__granted",
            "entitlement_overrides__limit",
            "entitlement_overrides__unlimited",
            "entitlement_overrides__enforcement",
            "entitlement_overrides__expires_at",
        )
    )
    first = rows[0] if rows else {}
    trial_end = first.get("billing_subscription__trial_end")
    plan_id, status = _effective_plan(first.get("billing_subscription__status"), trial_end,
                                      first.get("billing_subscription__plan__plan_id"))
    rules = index.rules(plan_id) if plan_id else None
    rules = rules or index.default or PlanRules(plan_id="", label="No plan")
    features, limits, meters = dict(rules.features), dict(rules.limits), dict(rules.meters)
    kinds = dict(index.key_kinds)
    now = timezone.now()
    for row in rows:
        key = row["entitlement_overrides__key"]
        expires = row["entitlement_overrides__expires_at"]
        if not key or (expires is not None and expires <= now):
            continue
        _apply_override(key, row, kinds, features, limits, meters, index.meter_specs)
    return OrgEntitlements(organization_id=organization_id, plan_id=rules.plan_id, plan_label=rules.label,
                           status=status, trial_end=trial_end, features=features, limits=limits, meters=meters,
                           key_kinds=kinds)


def _apply_override(key: str, row: dict[str, Any], kinds: dict[str, str], features: dict[str, bool],
                    limits: dict[str, int | None], meters: dict[str, MeterSpec],
                    meter_specs: dict[str, MeterSpec]) -> None:
    granted = row["entitlement_overrides__granted"]
    limit = None if row["entitlement_overrides__unlimited"] else row["entitlement_overrides__limit"]
    has_limit = row["entitlement_overrides__unlimited"] or row["entitlement_overrides__limit"] is not None
    enforcement = row["entitlement_overrides__enforcement"]
    kind = kinds.get(key) or ("feature" if granted is not None else "limit")
    kinds[key] = kind
    if kind == "feature" and granted is not None:
        features[key] = granted
    elif kind == "limit" and has_limit:
        limits[key] = limit
    elif kind == "meter":
        base = meters.get(key) or meter_specs[key]
        meters[key] = MeterSpec(key=key, limit=limit if has_limit else base.limit, reset=base.reset,
                                enforcement=enforcement or base.enforcement,
                                provider_event_name=base.provider_event_name)


def load_limit_counts(entitlements: OrgEntitlements) -> dict[str, int]:
    """What the organization holds of each counted limit of its plan (one query for all of them)."""
    counted = {key: limit for key, limit in counted_limits().items() if key in entitlements.limits}
    if not counted:
        return {}
    held = {f"held_{number}": limit.expression() for number, limit in enumerate(counted.values())}
    row = Organization.objects.filter(pk=entitlements.organization_id).annotate(**held).values(*held).first() or {}
    return {key: int(row.get(f"held_{number}") or 0) for number, key in enumerate(counted)}


def load_counters(entitlements: OrgEntitlements) -> dict[str, int]:
    """Each meter's usage in its current period (one query for all meters)."""
    if not entitlements.meters:
        return {}
    now = timezone.now()
    condition = Q()
    starts: dict[str, datetime] = {}
    for key, meter in entitlements.meters.items():
        starts[key] = entitlements.period(meter, now)[0]
        condition |= Q(meter=key, period_start=starts[key])
    counters = {key: 0 for key in entitlements.meters}
    for meter, period_start, used in UsageCounter.objects.filter(condition, organization_id=entitlements.organization_id
                                                                  ).values_list("meter", "period_start", "used"):
        if starts.get(meter) == period_start:
            counters[meter] = used
    return counters


def resolve_organization(subject: Any) -> Organization | None:
    """The organization behind a subject: an Organization, its id, a Caller or a request with a caller."""
    if isinstance(subject, Organization):
        return subject
    is_id = isinstance(subject, int) and not isinstance(subject, bool)
    if is_id or (isinstance(subject, str) and subject.isdigit()):
        return Organization.objects.filter(pk=int(subject)).first()
    organization = getattr(subject, "organization", None)
    if isinstance(organization, Organization):
        return organization
    caller = getattr(subject, "caller", None)
    if caller is not None and isinstance(getattr(caller, "organization", None), Organization):
        return caller.organization
    return None


def entitlements_for(organization: Organization, *, fresh: bool = False,
                     max_age: float | None = None) -> OrgEntitlements:
    """The organization's entitlements, cached on the instance for the rest of the request.

    ``max_age`` (seconds): reload when the cached copy is older (a long-lived instance, such as
    the one a workflow run holds, re-reads plan changes at that pace instead of on every use).
    """
    cached = getattr(organization, CACHE_ATTR, None)
    stale = cached is not None and max_age is not None and (
        (timezone.now() - cached.loaded_at).total_seconds() >= max_age)
    if cached is None or fresh or stale:
        cached = load_entitlements(organization.pk)
        setattr(organization, CACHE_ATTR, cached)
    return cached


def forget_entitlements(organization: Organization) -> None:
    """Drop the per-request cache (after a plan change or an override edit)."""
    organization.__dict__.pop(CACHE_ATTR, None)


def decide_for(entitlements: OrgEntitlements, key: str) -> t.Decision:
    """The decision for ``key`` given loaded entitlements (loads counters on the first meter key)."""
    plan_id = entitlements.plan_id
    if key in entitlements.features:
        granted = bool(entitlements.features[key])
        return t.Decision(granted, t.GRANTED if granted else t.ENTITLEMENT_REQUIRED, key, kind="feature",
                          plan_id=plan_id)
    if key in entitlements.limits:
        return _decide_limit(entitlements, key)
    if key in entitlements.meters:
        return _decide_meter(entitlements, entitlements.meters[key])
    if key in entitlements.key_kinds:
        return t.Decision(False, t.ENTITLEMENT_REQUIRED, key, kind=entitlements.key_kinds[key], plan_id=plan_id)
    return t.Decision(False, t.UNKNOWN_KEY, key, plan_id=plan_id)


def _decide_limit(entitlements: OrgEntitlements, key: str) -> t.Decision:
    """A limit: granted while what the organization holds is under it (counted limits count, once per request)."""
    limit = entitlements.limits[key]
    counted = counted_limit(key)
    if counted is None:
        granted = limit is None or limit > 0
        return t.Decision(granted, t.GRANTED if granted else t.LIMIT_EXCEEDED, key, limit=limit, kind="limit",
                          plan_id=entitlements.plan_id)
    if entitlements.limit_used is None or key not in entitlements.limit_used:
        entitlements.limit_used = {**(entitlements.limit_used or {}), **load_limit_counts(entitlements)}
    used = entitlements.limit_used.get(key, 0)
    granted = limit is None or used < limit
    remaining = None if limit is None else max(limit - used, 0)
    return t.Decision(granted, t.GRANTED if granted else t.LIMIT_EXCEEDED, key, limit=limit, used=used,
                      remaining=remaining, kind="limit", plan_id=entitlements.plan_id)


def _decide_meter(entitlements: OrgEntitlements, meter: MeterSpec) -> t.Decision:
    if entitlements.counters is None:
        entitlements.counters = load_counters(entitlements)
    return meter_decision(entitlements, meter, entitlements.counters.get(meter.key, 0))


def meter_decision(entitlements: OrgEntitlements, meter: MeterSpec, used: int) -> t.Decision:
    """The decision for ``meter`` when its period's usage is known to be ``used`` (no query)."""
    _, resets_at = entitlements.period(meter)
    if meter.limit is None:
        return t.Decision(True, t.GRANTED, meter.key, used=used, soft=meter.soft, resets_at=resets_at,
                          kind="meter", plan_id=entitlements.plan_id)
    remaining = max(meter.limit - used, 0)
    if remaining > 0:
        reason, granted = t.GRANTED, True
    elif meter.soft:
        reason, granted = t.SOFT_LIMIT_EXCEEDED, True
    else:
        reason, granted = t.LIMIT_EXCEEDED, False
    return t.Decision(granted, reason, meter.key, limit=meter.limit, used=used, remaining=remaining,
                      soft=meter.soft, resets_at=resets_at, kind="meter", plan_id=entitlements.plan_id)


def decide_subject(subject: Any, key: str, *, fresh: bool = False) -> t.Decision:
    """decide() proper: resolve the organization, then decide from its (cached) entitlements."""
    organization = resolve_organization(subject)
    if organization is None:
        return t.Decision(False, t.NO_ORGANIZATION, key)
    return decide_for(entitlements_for(organization, fresh=fresh), key)
