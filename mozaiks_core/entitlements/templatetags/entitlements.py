"""Template gates and usage widgets: ``{% load entitlements %}``.

``{% entitled "export_chats" as can_export %}`` sets a boolean for the request's organization;
``{% usage_panel organization %}`` renders the meter bars and the 30-day chart.
"""

from __future__ import annotations

from typing import Any

from django import template

from mozaiks_core.billing.catalog import key_spec
from mozaiks_core.entitlements.charts import usage_bar_chart
from mozaiks_core.entitlements.decisions import decide_subject
from mozaiks_core.entitlements.gates import organization_for_request
from mozaiks_core.entitlements.limits import limit_usage
from mozaiks_core.entitlements.services import token_meter_key
from mozaiks_core.entitlements.usage import daily_usage, meter_usage

register = template.Library()


@register.simple_tag(takes_context=True)
def entitled(context: dict[str, Any], key: str) -> bool:
    """Whether the organization of the page's request is granted ``key`` (False when anonymous)."""
    request = context.get("request")
    organization = context.get("organization") or (organization_for_request(request) if request else None)
    return organization is not None and decide_subject(organization, key).granted


@register.inclusion_tag("mozaiks/entitlements/usage_panel.html")
def usage_panel(organization: Any, days: int = 30) -> dict[str, Any]:
    """Meter bars for the current periods and a daily chart of the token meter."""
    meters = meter_usage(organization)
    chart_meter = token_meter_key() if any(m.key == token_meter_key() for m in meters) else (
        meters[0].key if meters else token_meter_key())
    series = daily_usage(organization, chart_meter, days)
    label = key_spec(chart_meter, "meter").label
    return {"meters": meters, "chart_meter": chart_meter, "chart_label": label, "days": days,
            "limits": limit_usage(organization),
            "chart": usage_bar_chart(series, title=f"{label} per day, last {days} days")}
