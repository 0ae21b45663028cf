"""Usage read models for pages and the API: per-meter bars and a daily series from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.catalog import key_spec
from mozaiks_core.entitlements.decisions import decide_for, entitlements_for
from mozaiks_core.entitlements.models import UsageEvent

MAX_DAYS = 366


@dataclass(frozen=True)
class MeterUsage:
    """One meter of the organization's plan: used, limit and when it resets."""

    key: str
    label: str
    used: int
    limit: int | None
    remaining: int | None
    percent: int
    soft: bool
    exceeded: bool
    reset: str
    resets_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"key": self.key, "label": self.label, "used": self.used, "limit": self.limit,
                "remaining": self.remaining,
                "percent": self.percent, "soft": self.soft, "exceeded": self.exceeded, "reset": self.reset,
                "resets_at": self.resets_at.isoformat() if self.resets_at else None}


def meter_usage(organization: Organization) -> list[MeterUsage]:
    """Every meter of the organization's plan with this period's usage (two queries at most)."""
    entitlements = entitlements_for(organization)
    rows: list[MeterUsage] = []
    for key, meter in sorted(entitlements.meters.items()):
        decision = decide_for(entitlements, key)
        used = decision.used or 0
        percent = 0 if not meter.limit else min(100, round(100 * used / meter.limit))
        rows.append(MeterUsage(key=key, label=key_spec(key, "meter").label, used=used, limit=meter.limit,
                               remaining=decision.remaining,
                               percent=percent if meter.limit else 0, soft=meter.soft,
                               exceeded=meter.limit is not None and used >= meter.limit, reset=meter.reset,
                               resets_at=decision.resets_at))
    return rows


def daily_usage(organization: Organization, meter: str, days: int = 30) -> list[tuple[date, int]]:
    """Granted usage of ``meter`` per UTC day for the last ``days`` days (zero-filled, oldest first)."""
    days = max(1, min(days, MAX_DAYS))
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    totals = dict(
        UsageEvent.objects.filter(organization=organization, meter=meter, granted=True,
                                  created_at__date__gte=first)
        .annotate(day=TruncDate("created_at")).values("day").annotate(total=Sum("quantity"))
        .values_list("day", "total")
    )
    return [(first + timedelta(days=offset), int(totals.get(first + timedelta(days=offset)) or 0))
            for offset in range(days)]
