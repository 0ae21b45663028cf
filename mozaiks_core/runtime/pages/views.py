"""Views of the chat pages: the home page (capabilities + history), one conversation, UI components.

The pages are server-rendered inside the app shell; the conversation is then driven by plain ES
modules over the chat WebSocket. The transcript already persisted is embedded in the page, so a
reload shows it at once and the socket only resumes from the last ``seq``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from mozaiks_core.auth.caller import membership_for_request
from mozaiks_core.entitlements import services as entitlements
from mozaiks_core.error_pages import not_found
from mozaiks_core.runtime import history, services
from mozaiks_core.runtime.pages.components import component_path, workspace_components
from mozaiks_core.runtime.pages.quota import organization_quota, upgrade_url
from mozaiks_core.workspace_info import app_id

HISTORY_LIMIT = 50
TRANSCRIPT_LIMIT = 5000
FINISHED_STATUSES = ("completed", "failed", "cancelled")
_CHAT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _chat_sessions() -> Any:
    return apps.get_model("mozaiks_runtime", "ChatSession")


def _organization(request: HttpRequest) -> Any:
    membership = membership_for_request(request, request.user)
    return membership.organization if membership is not None else None


def user_chats(request: HttpRequest, query: str = "") -> list[Any]:
    """The user's chats in the active organization, most recent activity first, with display titles."""
    organization = _organization(request)
    if organization is None:
        return []
    chats = list(history.history(request.user, organization, app_id(), query)[:HISTORY_LIMIT])
    for chat in chats:
        chat.display_title = history.display_title(chat)
        chat.workflow_label = services.workflow_display(chat.workflow)[0]
    return chats


def _shared_context(quota: Any) -> dict[str, Any]:
    return {
        "app_id": app_id(),
        "quota": quota,
        "quota_state": quota.state if quota is not None else "ok",
        "upgrade_url": upgrade_url(),
        "components_url": reverse("mozaiks_chat:components"),
    }


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Run the enclosed reads on one PostgreSQL snapshot, so the quota and the transcript agree.

    A usage event and its meter update commit together; read at two moments, a usage committed in
    between would be in the quota but not in the transcript (counted twice by the page) or the
    reverse. Inside a caller's transaction (or on another database) the reads are left as they are.
    """
    if connection.in_atomic_block or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


@login_required
@ensure_csrf_cookie
@require_GET
def chat_home(request: HttpRequest) -> HttpResponse:
    """The chat home: what this user may start, and a searchable history of their chats, both in the active
    organization (the one launches run in and whose quota the page shows)."""
    query = request.GET.get("q", "").strip()[:100]
    chats = user_chats(request, query)
    deleted = None
    if request.GET.get("deleted"):
        deleted = history.owned_chats(request.user, _organization(request), app_id()).filter(
            chat_id=request.GET["deleted"][:64], deleted_at__isnull=False).first()
        if deleted is not None:
            deleted.display_title = history.display_title(deleted)
    context = {**_shared_context(organization_quota(_organization(request))), "chats": chats, "query": query,
               "deleted": deleted,
               "bundle_problems": services.unavailable_workflow_problems() if settings.DEBUG else []}
    return render(request, "mozaiks/chat/home.html", context)


def transcript_frames(chat: Any) -> list[dict[str, Any]]:
    """The chat's persisted events as the socket delivers them: ``{type, data, timestamp, seq}``."""
    events = chat.events.order_by("seq").values("seq", "type", "payload", "created_at")[:TRANSCRIPT_LIMIT]
    return [
        {"type": event["type"], "data": event["payload"], "seq": event["seq"],
         "timestamp": event["created_at"].isoformat() if event["created_at"] else None}
        for event in events
    ]


@login_required
@ensure_csrf_cookie
@require_GET
def chat_detail(request: HttpRequest, chat_id: str) -> HttpResponse:
    """One conversation, while the user is a member of its organization (whose quota the page shows).

    Another user's chat, a chat of an organization the user left, a deleted chat or an unknown id is a
    404, never a 403 that leaks it.
    """
    missing = ("There is no such chat among yours. It may have been deleted, or it belongs to another "
               "account or organization.")
    if not _CHAT_ID.match(chat_id):
        return not_found(request, missing)
    with one_snapshot():
        chat = _chat_sessions().objects.select_related("organization").filter(
            chat_id=chat_id, user=request.user, organization__memberships__user=request.user, app_id=app_id(),
            deleted_at__isnull=True).first()
        if chat is None:
            return not_found(request, missing)
        events = transcript_frames(chat)
        quota = organization_quota(chat.organization)
    boot = {
        "chat_id": chat.chat_id,
        "app_id": chat.app_id,
        "workflow": chat.workflow,
        "user_id": str(chat.user_id),
        "status": chat.status,
        "ws_path": f"/ws/{chat.workflow}/{chat.app_id}/{chat.chat_id}/{chat.user_id}",
        "events": events,
        # The rendered quota counts the usage of every event up to here; the page adds later ones.
        "quota_through_seq": chat.last_seq,
        "components_url": reverse("mozaiks_chat:components"),
        "upgrade_url": upgrade_url(),
        "quota_warning_percent": entitlements.quota_warning_percent(),
        "scripted_model": getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted") == "scripted",
    }
    context = {**_shared_context(quota), "chat": chat, "boot": boot,
               "finished": chat.status in FINISHED_STATUSES, "title": history.display_title(chat),
               "title_max_length": history.TITLE_MAX_LENGTH,
               "can_retry": chat.status in history.RETRYABLE_STATUSES, "can_cancel": chat.is_active or
               chat.status in ("created", "interrupted")}
    return render(request, "mozaiks/chat/conversation.html", context)


@require_GET
def component_manifest(request: HttpRequest) -> JsonResponse:
    """The workspace's own UI-tool components: ``{components: [{name, url}]}`` for the registry."""
    components = [
        {"name": name, "url": reverse("mozaiks_chat:component", args=[name])} for name in workspace_components()
    ]
    return JsonResponse({"components": components})


@require_GET
def component_module(request: HttpRequest, name: str) -> FileResponse:
    """Serve one workspace component module (an ES module under ``app/ui/components/``)."""
    path = component_path(name)
    if path is None:
        raise Http404(f"No UI component named {name!r} in the workspace (app/ui/components/{name}.js).")
    response = FileResponse(path.open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
