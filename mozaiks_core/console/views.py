"""Console pages inside the Django admin: the dashboard and the read-only transcript viewer."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mozaiks_core.console.charts import bar_chart
from mozaiks_core.console.metrics import changelist, dashboard_sections, model

TIMELINE_LIMIT = 5000


def _admin_context(request: HttpRequest, title: str) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title}


def dashboard(request: HttpRequest) -> HttpResponse:
    """Usage and health at a glance, each figure linking to the admin rows behind it."""
    chat_id = request.GET.get("chat_id", "").strip()
    if chat_id:
        return redirect("mozaiks_console:transcript", chat_id=chat_id)
    sections = [
        {"title": section.title, "figures": section.figures,
         "charts": [{"title": title, "svg": bar_chart(title, bars), "bars": bars} for title, bars in section.charts]}
        for section in dashboard_sections()
    ]
    context = {**_admin_context(request, "Operator console"), "sections": sections}
    return render(request, "admin/mozaiks_console/dashboard.html", context)


def _summary(event_type: str, payload: dict[str, Any]) -> str:
    """One line saying what an event was, for the timeline."""
    for key in ("content", "prompt", "message", "tool_name"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= 160 else value[:159] + "…"
    if event_type == "chat.usage_delta":
        return f"{payload.get('total_tokens', 0)} tokens ({payload.get('model_name', '')})"
    return ""


def _problem(request: HttpRequest, title: str, detail: str, status: int) -> HttpResponse:
    """An admin-styled page for a refusal (the operator stays in the admin, even with DEBUG on)."""
    context = {**_admin_context(request, title), "detail": detail,
               "dashboard_url": reverse("mozaiks_console:dashboard")}
    return render(request, "admin/mozaiks_console/problem.html", context, status=status)


def transcript(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Every persisted event of one chat, in seq order; nothing here can change the chat."""
    if not request.user.has_perm("mozaiks_runtime.view_chatsession"):
        return _problem(request, "Not allowed", "Viewing transcripts needs the 'view chat session' permission; "
                        "a superuser can grant it in Users or Groups.", 403)
    chats = model("mozaiks_runtime", "ChatSession")
    if chats is None:
        return _problem(request, "Transcript not found", "The runtime app is not installed.", 404)
    chat = chats.objects.select_related("user", "organization").filter(chat_id=chat_id).first()
    if chat is None:
        return _problem(request, "Transcript not found",
                        f"There is no chat with the id {chat_id[:64]!r}. Copy the id from the chat's URL "
                        "or from Chat sessions, and try again.", 404)
    events = [
        {"seq": event.seq, "type": event.type, "created_at": event.created_at,
         "agent": event.payload.get("agent") or event.payload.get("agent_name") or "",
         "summary": _summary(event.type, event.payload),
         "payload": json.dumps(event.payload, indent=2, ensure_ascii=False, default=str)}
        for event in chat.events.order_by("seq")[:TIMELINE_LIMIT]
    ]
    usage = model("mozaiks_runtime", "UsageRecord")
    context = {
        **_admin_context(request, f"Transcript of chat {chat.chat_id}"),
        "chat": chat, "events": events,
        "events_url": changelist(model("mozaiks_runtime", "ChatEvent")),
        "usage_url": changelist(usage),
        "export_url": f"/api/chats/{chat.chat_id}/events.ndjson",
        "dashboard_url": reverse("mozaiks_console:dashboard"),
    }
    return render(request, "admin/mozaiks_console/transcript.html", context)
