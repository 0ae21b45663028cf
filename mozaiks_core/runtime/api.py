"""HTTP side of the chat protocol: start chats, answer requests, read metadata, export events.

Every endpoint sees only the caller's own chats in the organization the credential acts for.
The chat's runtime surface (answers, meta, exists, cancel, session list, export) authenticates
with ``chat_surface_auth``, which also takes the chat's execution token, bound to that one chat;
everything else (start, launch, the catalogues) uses ``api_auth``, which refuses execution tokens,
so a token never mints another. Errors are ``{error, message, ...}``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from ninja import Router, Schema

from mozaiks_core.auth.caller import Caller, get_caller
from mozaiks_core.auth.security import api_auth, chat_surface_auth
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession, PendingRequest

router = Router(tags=["runtime"])


class StartChatIn(Schema):
    """Body of ``POST /api/chats/{app_id}/{workflow}/start`` (all optional)."""

    client_request_id: str = ""
    force_new: bool = False
    user_id: str | None = None


class UIToolSubmitIn(Schema):
    """An answer to a UI tool (``event_id`` is the tool call's ``eventId``)."""

    event_id: str
    response_data: Any = None
    chat_id: str | None = None


class UserInputIn(Schema):
    """A user message for a chat: answers its input request, or continues the chat."""

    chat_id: str
    text: str
    input_request_id: str | None = None


class LaunchIn(Schema):
    """Body of ``POST /api/ai/launch``."""

    capability_id: str
    force_new: bool = False


def _error(error: services.ChatError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)


def _not_found(chat_id: str) -> JsonResponse:
    return JsonResponse({"error": "CHAT_NOT_FOUND", "message": f"No chat {chat_id!r} exists for you.",
                         "chat_id": chat_id}, status=404)


def chat_of_caller(caller: Caller, chat_id: str) -> ChatSession | None:
    """The caller's chat ``chat_id`` as its credential reaches it (None: missing, someone else's, another
    organization's, out of the token's scope)."""
    return services.chat_for(caller.user, chat_id, organization_id=caller.organization.pk, claims=caller.claims)


def _websocket_url(request: HttpRequest, session: ChatSession, token: str) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{services.websocket_path(session)}?access_token={token}"


def _started(request: HttpRequest, caller: Caller, session: ChatSession, reused: bool,
             capability_id: str = "") -> dict[str, Any]:
    token = services.issue_chat_token(session, capability_id, session_key=caller.session_key,
                                      api_key_id=caller.api_key_id)
    return {
        "success": True, "chat_id": session.chat_id, "workflow_name": session.workflow, "app_id": session.app_id,
        "user_id": str(session.user_id), "websocket_url": _websocket_url(request, session, token), "reused": reused,
        "cache_seed": session.cache_seed, "access_token": token, "status": session.status,
    }


@router.post("/chats/{app_id}/{workflow}/start", auth=api_auth)
def start_chat(request: HttpRequest, app_id: str, workflow: str, payload: StartChatIn | None = None) -> HttpResponse:
    """Create (or reuse) a chat; the answer carries a ready ``websocket_url`` with an execution token."""
    caller = get_caller(request)
    body = payload or StartChatIn()
    if body.user_id not in (None, "", str(caller.user.pk)):
        return JsonResponse({"error": "USER_MISMATCH", "message": "user_id must be your own user id (or left out)."},
                            status=403)
    try:
        session, reused = services.create_chat(
            user=caller.user, organization=caller.organization, app_id=app_id, workflow=workflow,
            client_request_id=body.client_request_id, force_new=body.force_new, can_manage=caller.can_manage)
    except services.ChatError as error:
        return _error(error)
    return JsonResponse(_started(request, caller, session, reused))


@router.post("/ui-tool/submit", auth=chat_surface_auth)
def submit_ui_tool(request: HttpRequest, payload: UIToolSubmitIn) -> HttpResponse:
    """Answer a UI tool the run is blocked on; a second answer is refused with 409."""
    caller = get_caller(request)
    request_row = PendingRequest.objects.filter(
        request_id=payload.event_id, kind=PendingRequest.Kind.UI_TOOL, chat__user=caller.user,
        chat__organization=caller.organization,
    ).select_related("chat").first()
    session = chat_of_caller(caller, request_row.chat.chat_id) if request_row else None
    if session is None:
        return JsonResponse({"error": "UNKNOWN_REQUEST", "message": f"No UI tool {payload.event_id!r} is waiting "
                             "for you.", "event_id": payload.event_id}, status=404)
    try:
        services.answer_request(session, payload.event_id, payload.response_data, kind=PendingRequest.Kind.UI_TOOL)
    except services.ChatError as error:
        return _error(error)
    return JsonResponse({"status": "success", "event_id": payload.event_id, "chat_id": session.chat_id})


@router.post("/user-input/submit", auth=chat_surface_auth)
def submit_user_input(request: HttpRequest, payload: UserInputIn) -> HttpResponse:
    """Answer the chat's input request (or continue a finished chat with a new message)."""
    caller = get_caller(request)
    session = chat_of_caller(caller, payload.chat_id)
    if session is None:
        return _not_found(payload.chat_id)
    if not payload.text.strip():
        return JsonResponse({"error": "SCHEMA_VALIDATION_FAILED", "message": "'text' must not be empty.",
                             "field": "text"}, status=422)
    try:
        outcome, _ = services.submit_user_text(session, payload.text, payload.input_request_id)
    except services.ChatError as error:
        return _error(error)
    return JsonResponse({"status": "success", "outcome": outcome, "chat_id": session.chat_id})


@router.get("/chats/meta/{app_id}/{chat_id}", auth=chat_surface_auth)
def chat_meta(request: HttpRequest, app_id: str, chat_id: str) -> HttpResponse:
    """The chat's status, last seq, last artifact and cache seed."""
    session = chat_of_caller(get_caller(request), chat_id)
    if session is None or session.app_id != app_id:
        return _not_found(chat_id)
    return JsonResponse({"exists": True, **services.session_summary(session)})


@router.get("/chats/exists/{app_id}/{chat_id}", auth=chat_surface_auth)
def chat_exists(request: HttpRequest, app_id: str, chat_id: str) -> HttpResponse:
    """``{exists}``: false for missing chats and for other users' chats alike."""
    session = chat_of_caller(get_caller(request), chat_id)
    return JsonResponse({"exists": session is not None and session.app_id == app_id, "chat_id": chat_id})


@router.post("/chats/{chat_id}/cancel", auth=chat_surface_auth)
def cancel_chat(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Stop the chat's run at its next step."""
    session = chat_of_caller(get_caller(request), chat_id)
    if session is None:
        return _not_found(chat_id)
    return JsonResponse({"status": "success", "cancelled": services.cancel_chat(session), "chat_id": chat_id})


@router.get("/sessions/list/{app_id}/{user_id}", auth=chat_surface_auth)
def list_sessions(request: HttpRequest, app_id: str, user_id: str, limit: int = 50) -> HttpResponse:
    """The caller's chats in this app, newest first."""
    caller = get_caller(request)
    if user_id != str(caller.user.pk):
        return JsonResponse({"error": "NOT_FOUND", "message": "You can list only your own chats."}, status=404)
    chats = ChatSession.objects.filter(user=caller.user, organization=caller.organization, app_id=app_id)
    if caller.claims is not None:
        chats = chats.filter(chat_id=caller.claims.chat_id)
    sessions = [services.session_summary(chat) for chat in chats.order_by("-created_at")[: max(1, min(limit, 200))]]
    return JsonResponse({"sessions": sessions, "count": len(sessions)})


@router.get("/workflows/catalog", auth=api_auth)
def list_workflows(request: HttpRequest) -> HttpResponse:
    """Workflows that loaded (name, startup mode, description) and those that did not
    (``GET /api/workflows`` is the MozaiksAI map the ChatUI reads)."""
    workflows = []
    for name in services.workflow_names():
        orchestrator = services.get_bundle(name).orchestrator
        workflows.append({"name": name, "startup_mode": orchestrator.startup_mode,
                          "description": orchestrator.description,
                          "human_in_the_loop": orchestrator.human_in_the_loop})
    return JsonResponse({"workflows": workflows, "unavailable": sorted(services.bundle_errors())})


@router.get("/chats/{chat_id}/events.ndjson", auth=chat_surface_auth)
def export_events(request: HttpRequest, chat_id: str) -> HttpResponse:
    """The chat's events as NDJSON in the frozen MozaiksAI envelope."""
    session = chat_of_caller(get_caller(request), chat_id)
    if session is None:
        return _not_found(chat_id)
    response = StreamingHttpResponse(services.export_lines(session), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'inline; filename="{chat_id}.ndjson"'
    return response


@router.get("/ai/capabilities", auth=api_auth)
def capabilities(request: HttpRequest) -> HttpResponse:
    """Every capability visible to the caller, with ``allowed``."""
    from mozaiks_core.entitlements.services import capabilities_for

    caller = get_caller(request)
    views = capabilities_for(user=caller.user, organization=caller.organization,
                             workflow_names=services.workflow_names(), can_manage=caller.can_manage)
    return JsonResponse({"capabilities": [_capability_body(view) for view in views]})


def _capability_body(view: Any) -> dict[str, Any]:
    """One capability for the caller; an open capability reads its name and description from the bundle."""
    display_name, description = services.workflow_display(view.workflow_name)
    label = display_name if view.label in ("", view.capability_id, view.workflow_name) else view.label
    return {"capability_id": view.capability_id, "workflow_name": view.workflow_name, "label": label,
            "description": view.description or description, "visibility": view.visibility,
            "allowed": view.allowed, "reason": view.reason, "message": view.message,
            "capability_source": view.ownership}


@router.post("/ai/launch", auth=api_auth)
def launch(request: HttpRequest, payload: LaunchIn) -> HttpResponse:
    """Check entitlements, create the chat, return its ``websocket_url`` and execution token."""
    from mozaiks_core.entitlements.services import resolve_capability
    from mozaiks_core.workspace_info import app_id

    caller = get_caller(request)
    workflow = resolve_capability(payload.capability_id, services.workflow_names())
    if workflow is None:
        return JsonResponse({"error": "CAPABILITY_NOT_FOUND", "message": f"No capability {payload.capability_id!r}; "
                             "GET /api/ai/capabilities lists them.", "capability_id": payload.capability_id},
                            status=404)
    try:
        session, reused = services.create_chat(
            user=caller.user, organization=caller.organization, app_id=app_id(), workflow=workflow,
            force_new=payload.force_new, capability_id=payload.capability_id, can_manage=caller.can_manage)
    except services.ChatError as error:
        return _error(error)
    body = _started(request, caller, session, reused, payload.capability_id)
    body["capability_id"] = payload.capability_id
    return JsonResponse(body)



class LLMUsageRowOut(Schema):
    """Usage and cost of one group: a user's email, a workflow, a model or a UTC day (``YYYY-MM-DD``)."""

    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: str  # a decimal in ``currency``, e.g. "0.00123400"
    currency: str


class LLMUsageOut(Schema):
    """``GET /api/usage/llm``: the organization's LLM usage and cost in a period, grouped one way."""

    organization_id: int
    group_by: str
    start: date
    end: date
    rows: list[LLMUsageRowOut]


class UsageProblem(Schema):
    """A refused analytics query: ``field`` names the parameter to fix."""

    error: str
    message: str
    field: str = ""


@router.get("/usage/llm", auth=api_auth, response={200: LLMUsageOut, 400: UsageProblem, 403: UsageProblem})
def llm_usage(request: HttpRequest, group_by: str = "user", start: date | None = None, end: date | None = None,
              format: str = "json") -> HttpResponse:
    """LLM usage and cost of the caller's organization per ``user``, ``workflow``, ``model`` or ``day``.

    ``start``/``end`` (UTC dates, both included; default the last 30 days). ``format=csv`` answers
    ``text/csv``. Owners and admins only (an API key needs the ``manage`` scope). One query.
    """
    from mozaiks_core.runtime import analytics

    caller = get_caller(request)
    if not caller.can_manage:
        return JsonResponse({"error": "PERMISSION_DENIED", "message": "Only owners and admins of the organization "
                             "see its usage and cost (an API key needs the manage scope).", "field": ""}, status=403)
    try:
        first, last = analytics.period(start, end)
        rows = analytics.usage_by(caller.organization, group_by, first, last)
    except analytics.AnalyticsError as error:
        return JsonResponse({"error": "INVALID_QUERY", "message": error.message, "field": error.field}, status=400)
    if format == "csv":
        response = HttpResponse(analytics.as_csv(group_by, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="llm-usage-{group_by}-{first}-{last}.csv"'
        return response
    return JsonResponse({"organization_id": caller.organization.pk, "group_by": group_by, "start": first.isoformat(),
                         "end": last.isoformat(), "rows": [analytics.as_json(row) for row in rows]})
