"""A plan's entitlements in words a customer reads: "3 seats", "200,000 AI tokens a month".

Pages never show catalog keys: every line uses the key's label and unit from the catalog's
``entitlements:`` section (:func:`~mozaiks_core.billing.catalog.key_spec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma

from mozaiks_core.billing.catalog import key_spec

PER_PERIOD = {"hour": "an hour", "day": "a day", "week": "a week", "month": "a month", "never": "in total"}


@dataclass(frozen=True)
class PlanLine:
    """One line of a plan card: its text, whether the plan includes it, and what it means."""

    key: str
    text: str
    included: bool
    description: str = ""


def _things(key: str, kind: str, count: int | None) -> str:
    """The label, or the unit in the right number when the key has one ("1 seat", "3 seats")."""
    spec = key_spec(key, kind)
    if not spec.unit:
        return spec.label
    return spec.unit if count == 1 else (spec.unit if spec.unit.endswith("s") else f"{spec.unit}s")


def amount_text(key: str, kind: str, limit: int | None) -> str:
    """"3 seats", "Unlimited seats", "No API keys" (the unit, else the label)."""
    if limit is None:
        return f"Unlimited {_things(key, kind, None)}"
    if limit == 0:
        return f"No {_things(key, kind, 0)}"
    return f"{intcomma(limit)} {_things(key, kind, limit)}"


def plan_lines(plan: Any) -> list[PlanLine]:
    """Every feature, limit and meter of ``plan`` (a Plan row or PlanRules) as readable lines."""
    lines = []
    for key, value in (plan.features or {}).items():
        spec = key_spec(key, "feature")
        lines.append(PlanLine(key, spec.label, bool(value), spec.description))
    for key, limit in (plan.limits or {}).items():
        lines.append(PlanLine(key, amount_text(key, "limit", limit), limit != 0, key_spec(key, "limit").description))
    for key, meter in (plan.meters or {}).items():
        raw = meter if isinstance(meter, dict) else meter.as_dict()
        limit, reset = raw.get("limit"), raw.get("reset", "month")
        spec = key_spec(key, "meter")
        if limit is None:
            text = f"{spec.label}: unlimited"
        else:
            text = f"{spec.label}: {intcomma(limit)} {PER_PERIOD.get(reset, '')}".strip()
            if raw.get("enforcement") == "soft":
                text += " (soft limit: keeps working past it)"
        lines.append(PlanLine(key, text, limit != 0, spec.description))
    return lines
