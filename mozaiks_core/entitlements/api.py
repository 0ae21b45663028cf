"""Entitlements API: the caller's decisions and usage (``/api/entitlements/...``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.security import api_auth
from mozaiks_core.entitlements.decisions import decide_for, entitlements_for
from mozaiks_core.entitlements.usage import daily_usage, meter_usage

router = Router(tags=["entitlements"])


class DecisionOut(Schema):
    """One decision of decide()."""

    key: str
    granted: bool
    reason: str
    kind: str
    limit: int | None = None
    used: int | None = None
    remaining: int | None = None
    soft: bool = False
    resets_at: datetime | None = None


class EntitlementsOut(Schema):
    """Every key the caller's plan (with overrides) decides, and the plan it comes from."""

    organization_id: int
    plan_id: str
    status: str
    trial_end: datetime | None
    entitlements: list[DecisionOut]


class UsageDayOut(Schema):
    """Usage on one UTC day."""

    day: date
    quantity: int


class UsageOut(Schema):
    """This period's usage per meter and a daily series of one meter."""

    meters: list[dict[str, Any]]
    series_meter: str
    series: list[UsageDayOut]


def _decision_out(decision: Any) -> DecisionOut:
    return DecisionOut(key=decision.key, granted=decision.granted, reason=decision.reason, kind=decision.kind,
                       limit=decision.limit, used=decision.used, remaining=decision.remaining, soft=decision.soft,
                       resets_at=decision.resets_at)


@router.get("/entitlements", response=EntitlementsOut, auth=api_auth)
def list_entitlements(request: HttpRequest) -> EntitlementsOut:
    """Decisions for every key the catalog declares, for the caller's organization."""
    caller = get_caller(request)
    entitlements = entitlements_for(caller.organization)
    keys = sorted(set(entitlements.key_kinds) | set(entitlements.features) | set(entitlements.limits)
                  | set(entitlements.meters))
    return EntitlementsOut(organization_id=caller.organization.pk, plan_id=entitlements.plan_id,
                           status=entitlements.status, trial_end=entitlements.trial_end,
                           entitlements=[_decision_out(decide_for(entitlements, key)) for key in keys])


@router.get("/entitlements/usage", response=UsageOut, auth=api_auth)
def usage(request: HttpRequest, meter: str = "", days: int = Query(30, ge=1, le=366)) -> UsageOut:
    """Per-meter usage for the current periods and a daily series (default: the first meter)."""
    caller = get_caller(request)
    meters = meter_usage(caller.organization)
    series_meter = meter or (meters[0].key if meters else "tokens_monthly")
    return UsageOut(meters=[row.as_dict() for row in meters], series_meter=series_meter,
                    series=[UsageDayOut(day=day, quantity=value)
                            for day, value in daily_usage(caller.organization, series_meter, days)])


@router.get("/entitlements/{key}", response=DecisionOut, auth=api_auth)
def decide_key(request: HttpRequest, key: str) -> DecisionOut:
    """decide() for one key (unknown keys come back denied with reason UNKNOWN_KEY)."""
    caller = get_caller(request)
    return _decision_out(decide_for(entitlements_for(caller.organization), key))
