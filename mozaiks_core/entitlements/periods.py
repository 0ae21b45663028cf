"""Meter reset periods: calendar periods in UTC (hour, day, ISO week, month) or one that never resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NEVER_START = datetime(2000, 1, 1, tzinfo=UTC)


def period_bounds(reset: str, now: datetime) -> tuple[datetime, datetime | None]:
    """The period containing ``now``: its start and its end (None for ``never``)."""
    now = now.astimezone(UTC)
    if reset == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    if reset == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if reset == "week":
        start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=7)
    if reset == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end
    return NEVER_START, None
