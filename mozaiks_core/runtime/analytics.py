"""LLM usage and cost of one organization, grouped by user, workflow, model or day (one query each).

Backs ``GET /api/usage/llm``: the app owner's view of what chats cost, per person, per workflow,
per model and per day, over a period of at most :data:`MAX_DAYS` days.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from mozaiks_core.auth.models import Organization
from mozaiks_core.runtime.models import UsageRecord

GROUPS = {"user": "user__email", "workflow": "workflow", "model": "model", "day": "day"}
MAX_DAYS = 366
CSV_COLUMNS = ("group", "key", "calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost", "currency")


class AnalyticsError(ValueError):
    """A bad query: ``field`` names the parameter, ``message`` what to send instead."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(message)


@dataclass(frozen=True)
class UsageRow:
    """Usage and cost of one group (a user's email, a workflow, a model or a UTC day)."""

    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Decimal
    currency: str


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for (default: the last 30 days, today included), checked."""
    end = end or timezone.now().date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise AnalyticsError("start", f"start {start} is after end {end}; swap them")
    if (end - start).days >= MAX_DAYS:
        raise AnalyticsError("start", f"the period is longer than {MAX_DAYS} days; ask for a shorter one")
    return start, end


def usage_by(organization: Organization, group_by: str, start: date, end: date) -> list[UsageRow]:
    """One row per group with calls, tokens and cost in the period (UTC days, both ends included)."""
    if group_by not in GROUPS:
        raise AnalyticsError("group_by", f"group_by {group_by!r} is unknown; use one of {', '.join(GROUPS)}")
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    records = UsageRecord.objects.filter(organization=organization, created_at__gte=since, created_at__lt=until)
    if group_by == "day":
        records = records.annotate(day=TruncDate("created_at"))
    column = GROUPS[group_by]
    rows = (records.values(column, "currency").order_by(column)
            .annotate(calls=Count("pk"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"),
                      total=Sum("total_tokens"), spent=Sum("cost")))
    return [UsageRow(key=str(row[column]), calls=row["calls"], prompt_tokens=int(row["prompt"] or 0),
                     completion_tokens=int(row["completion"] or 0), total_tokens=int(row["total"] or 0),
                     cost=Decimal(row["spent"] or 0), currency=row["currency"]) for row in rows]


def as_csv(group_by: str, rows: list[UsageRow]) -> str:
    """The rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([group_by, row.key, row.calls, row.prompt_tokens, row.completion_tokens, row.total_tokens,
                         f"{row.cost:f}", row.currency])
    return out.getvalue()


def as_json(row: UsageRow) -> dict[str, Any]:
    """One row for the JSON answer (cost as a decimal string: no float rounding)."""
    return {"key": row.key, "calls": row.calls, "prompt_tokens": row.prompt_tokens,
            "completion_tokens": row.completion_tokens, "total_tokens": row.total_tokens,
            "cost": f"{row.cost.normalize():f}", "currency": row.currency}
