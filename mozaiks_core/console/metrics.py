"""The figures behind the console dashboard, read lazily from whichever apps are installed.

Each section function returns None when its models are not there (a project without billing
has no webhook section) so the dashboard shows only what applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mozaiks_core.console.charts import Bar

DAYS = 14


def model(label: str, name: str) -> Any | None:
    """An installed model, or None when its app is not installed."""
    try:
        return apps.get_model(label, name)
    except LookupError:
        return None


def _filterable(model_class: Any) -> set[str]:
    model_admin = admin.site._registry.get(model_class)
    if model_admin is None:
        return set()
    names = {item if isinstance(item, str) else item[0] for item in model_admin.list_filter
             if isinstance(item, str | tuple | list)}
    if model_admin.date_hierarchy:
        names.add(model_admin.date_hierarchy)
    return names


def changelist(model_class: Any, **filters: Any) -> str:
    """The admin changelist URL of ``model_class``, keeping only the filters its admin accepts
    (fields in ``list_filter`` or ``date_hierarchy``); "" when the model is not in the admin."""
    if model_class is None:
        return ""
    meta = model_class._meta
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    except NoReverseMatch:
        return ""
    allowed = _filterable(model_class)
    kept = {key: value for key, value in filters.items() if key.split("__")[0] in allowed}
    return f"{url}?{urlencode(kept)}" if kept else url


@dataclass
class Figure:
    """A headline number with a link to the rows behind it."""

    label: str
    value: int
    href: str = ""
    alert: bool = False


@dataclass
class Section:
    """One dashboard section: headline figures and charts (title, bars)."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[tuple[str, list[Bar]]] = field(default_factory=list)


def _days(since: date) -> list[date]:
    return [since + timedelta(days=offset) for offset in range(DAYS)]


def _per_day(queryset: Any, date_field: str, value: Any, since: date, model_class: Any) -> list[Bar]:
    rows = (queryset.annotate(day=TruncDate(date_field)).values("day").annotate(value=value).order_by("day"))
    by_day = {row["day"]: int(row["value"] or 0) for row in rows}
    return [
        Bar(day.strftime("%b %d"), by_day.get(day, 0),
            changelist(model_class, **{f"{date_field}__year": day.year, f"{date_field}__month": day.month,
                                         f"{date_field}__day": day.day}) if by_day.get(day) else "")
        for day in _days(since)
    ]


def _since() -> tuple[date, Any]:
    today = timezone.localdate()
    since = today - timedelta(days=DAYS - 1)
    start = timezone.make_aware(timezone.datetime.combine(since, timezone.datetime.min.time()))
    return since, start


def runs_section() -> Section | None:
    """Runs per day and per workflow, active and failed runs."""
    chats = model("mozaiks_runtime", "ChatSession")
    if chats is None:
        return None
    since, start = _since()
    recent = chats.objects.filter(created_at__gte=start)
    per_workflow = recent.values("workflow").annotate(value=Count("id")).order_by("-value")[:12]
    section = Section("Runs")
    section.figures = [
        Figure("Active runs", chats.objects.filter(status__in=["running", "waiting_input"]).count(),
               changelist(chats, status__exact="running")),
        Figure(f"Failed runs ({DAYS} days)", recent.filter(status="failed").count(),
               changelist(chats, status__exact="failed"), alert=True),
        Figure(f"Chats started ({DAYS} days)", recent.count(), changelist(chats)),
    ]
    section.charts = [
        ("Runs per day", _per_day(recent, "created_at", Count("id"), since, chats)),
        ("Runs per workflow", [Bar(row["workflow"], row["value"], changelist(chats, workflow=row["workflow"]))
                               for row in per_workflow]),
    ]
    return section


def _plan_of_organizations(organization_ids: list[int]) -> dict[int, str]:
    subscriptions, plans = model("mozaiks_billing", "Subscription"), model("mozaiks_billing", "Plan")
    if subscriptions is None or plans is None:
        return {}
    default = plans.objects.filter(is_default=True).values_list("plan_id", flat=True).first() or "default"
    chosen = dict(subscriptions.objects.filter(organization_id__in=organization_ids)
                  .values_list("organization_id", "plan__plan_id"))
    return {organization_id: chosen.get(organization_id, default) for organization_id in organization_ids}


def tokens_section() -> Section | None:
    """LLM tokens per day, per workflow and per plan."""
    usage = model("mozaiks_runtime", "UsageRecord")
    if usage is None:
        return None
    since, start = _since()
    recent = usage.objects.filter(created_at__gte=start)
    total = recent.aggregate(total=Sum("total_tokens"))["total"] or 0
    per_workflow = recent.values("workflow").annotate(value=Sum("total_tokens")).order_by("-value")[:12]
    per_org = dict(recent.values("organization_id").annotate(value=Sum("total_tokens"))
                   .values_list("organization_id", "value"))
    per_plan: dict[str, int] = {}
    for organization_id, plan in _plan_of_organizations(list(per_org)).items():
        per_plan[plan] = per_plan.get(plan, 0) + int(per_org[organization_id] or 0)
    section = Section("LLM tokens")
    section.figures = [Figure(f"Tokens ({DAYS} days)", int(total), changelist(usage))]
    section.charts = [
        ("Tokens per day", _per_day(recent, "created_at", Sum("total_tokens"), since, usage)),
        ("Tokens per workflow", [
            Bar(row["workflow"], int(row["value"] or 0), changelist(usage, workflow=row["workflow"]))
            for row in per_workflow
        ]),
    ]
    if per_plan:
        section.charts.append(("Tokens per plan", [Bar(plan, value) for plan, value in
                                                   sorted(per_plan.items(), key=lambda item: -item[1])]))
    return section


def webhooks_section() -> Section | None:
    """Billing webhooks that failed or need an operator."""
    webhooks = model("mozaiks_billing", "WebhookEvent")
    if webhooks is None:
        return None
    since, start = _since()
    failed = webhooks.objects.filter(status="failed")
    section = Section("Billing webhooks")
    section.figures = [
        Figure("Failed webhooks", failed.count(), changelist(webhooks, status__exact="failed"), alert=True),
        Figure("Flagged for an operator", webhooks.objects.filter(flagged=True).count(),
               changelist(webhooks, flagged__exact="1"), alert=True),
    ]
    section.charts = [("Webhook failures per day",
                       _per_day(failed.filter(received_at__gte=start), "received_at", Count("id"), since, webhooks))]
    return section


def outbox_section() -> Section | None:
    """Domain events waiting in the outbox and reaction deliveries that failed."""
    outbox = model("mozaiks_plugins", "OutboxEvent")
    if outbox is None:
        return None
    deliveries = model("mozaiks_plugins", "EventDelivery")
    section = Section("Domain event outbox")
    section.figures = [Figure("Outbox backlog (pending)", outbox.objects.filter(status="pending").count(),
                              changelist(outbox, status__exact="pending"), alert=True)]
    if deliveries is not None:
        section.figures += [
            Figure("Deliveries failing (will retry)", deliveries.objects.filter(status="failed").count(),
                   changelist(deliveries, status__exact="failed"), alert=True),
            Figure("Dead deliveries", deliveries.objects.filter(status="dead").count(),
                   changelist(deliveries, status__exact="dead"), alert=True),
        ]
    return section


def dashboard_sections() -> list[Section]:
    """Every section whose models exist, in reading order."""
    builders = (runs_section, tokens_section, webhooks_section, outbox_section)
    return [section for section in (builder() for builder in builders) if section is not None]
