"""HTTP side of the chat protocol: start chats, answer requests, read metadata, export events.

Every endpoint authenticates with ``api_auth`` and sees only the caller's own chats; an
execution token only reaches the chat it is bound to. Errors are ``{error, message, ...}``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from ninja import Router, Schema

from mozaiks_core.auth.caller import Caller, get_caller
from mozaiks_core.auth.security import api_auth
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


def _chat(caller: Caller, chat_id: str) -> ChatSession | None:
    return services.chat_for(caller.user, chat_id, claims=caller.claims)


def _websocket_url(request: HttpRequest, session: ChatSession, token: str) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{services.websocket_path(session)}?access_token={token}"


def _started(request: HttpRequest, session: ChatSession, reused: bool, capability_id: str = "") -> dict[str, Any]:
    token = services.issue_chat_token(session, capability_id)
    return {
        "success": True, "chat_id": session.chat_id, "workflow_name": session.workflow, "app_id": session.app_id,
        "user_id": str(session.user_id), "websocket_url": _websocket_url(request, session, token), "reused": reused,
        "cache_seed": session.cache_seed, "access_token": token, "status": session.status,
    }


def _token_allows(caller: Caller, *, workflow: str) -> services.ChatError | None:
    if caller.claims is not None and caller.claims.workflow != workflow:
        return services.ChatError("TOKEN_SCOPE", "This execution token is bound to another workflow; use your "
                                  "session or an API key to start chats.", 403)
    return None


@router.post("/chats/{app_id}/{workflow}/start", auth=api_auth)
def start_chat(request: HttpRequest, app_id: str, workflow: str, payload: StartChatIn | None = None) -> HttpResponse:
    """Create (or reuse) a chat; the answer carries a ready ``websocket_url`` with an execution token."""
    caller = get_caller(request)
    body = payload or StartChatIn()
    if body.user_id not in (None, "", str(caller.user.pk)):
        return JsonResponse({"error": "USER_MISMATCH", "message": "user_id must be your own user id (or left out)."},
                            status=403)
    denied = _token_allows(caller, workflow=workflow)
    if denied is not None:
        return _error(denied)
    try:
        session, reused = services.create_chat(
            user=caller.user, organization=caller.organization, app_id=app_id, workflow=workflow,
            client_request_id=body.client_request_id, force_new=body.force_new, can_manage=caller.can_manage)
    except services.ChatError as error:
        return _error(error)
    return JsonResponse(_started(request, session, reused))


@router.post("/ui-tool/submit", auth=api_auth)
def submit_ui_tool(request: HttpRequest, payload: UIToolSubmitIn) -> HttpResponse:
    """Answer a UI tool the run is blocked on; a second answer is refused with 409."""
    caller = get_caller(request)
    request_row = PendingRequest.objects.filter(
        request_id=payload.event_id, kind=PendingRequest.Kind.UI_TOOL, chat__user=caller.user
    ).select_related("chat").first()
    session = _chat(caller, request_row.chat.chat_id) if request_row else None
    if session is None:
        return JsonResponse({"error": "UNKNOWN_REQUEST", "message": f"No UI tool {payload.event_id!r} is waiting "
                             "for you.", "event_id": payload.event_id}, status=404)
    try:
        services.answer_request(session, payload.event_id, payload.response_data, kind=PendingRequest.Kind.UI_TOOL)
    except services.ChatError as error:
        return _error(error)
    return JsonResponse({"status": "success", "event_id": payload.event_id, "chat_id": session.chat_id})


@router.post("/user-input/submit", auth=api_auth)
def submit_user_input(request: HttpRequest, payload: UserInputIn) -> HttpResponse:
    """Answer the chat's input request (or continue a finished chat with a new message)."""
    caller = get_caller(request)
    session = _chat(caller, payload.chat_id)
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


@router.get("/chats/meta/{app_id}/{chat_id}", auth=api_auth)
def chat_meta(request: HttpRequest, app_id: str, chat_id: str) -> HttpResponse:
    """The chat's status, last seq, last artifact and cache seed."""
    session = _chat(get_caller(request), chat_id)
    if session is None or session.app_id != app_id:
        return _not_found(chat_id)
    return JsonResponse({"exists": True, **services.session_summary(session)})


@router.get("/chats/exists/{app_id}/{chat_id}", auth=api_auth)
def chat_exists(request: HttpRequest, app_id: str, chat_id: str) -> HttpResponse:
    """``{exists}``: false for missing chats and for other users' chats alike."""
    session = _chat(get_caller(request), chat_id)
    return JsonResponse({"exists": session is not None and session.app_id == app_id, "chat_id": chat_id})


@router.post("/chats/{chat_id}/cancel", auth=api_auth)
def cancel_chat(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Stop the chat's run at its next step."""
    session = _chat(get_caller(request), chat_id)
    if session is None:
        return _not_found(chat_id)
    return JsonResponse({"status": "success", "cancelled": services.cancel_chat(session), "chat_id": chat_id})


@router.get("/sessions/list/{app_id}/{user_id}", auth=api_auth)
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


@router.get("/workflows", auth=api_auth)
def list_workflows(request: HttpRequest) -> HttpResponse:
    """Workflows that loaded (name, startup mode, description)."""
    workflows = []
    for name in services.workflow_names():
        orchestrator = services.get_bundle(name).orchestrator
        workflows.append({"name": name, "startup_mode": orchestrator.startup_mode,
                          "description": orchestrator.description,
                          "human_in_the_loop": orchestrator.human_in_the_loop})
    return JsonResponse({"workflows": workflows, "unavailable": sorted(services.bundle_errors())})


@router.get("/chats/{chat_id}/events.ndjson", auth=api_auth)
def export_events(request: HttpRequest, chat_id: str) -> HttpResponse:
    """The chat's events as NDJSON in the frozen MozaiksAI envelope."""
    session = _chat(get_caller(request), chat_id)
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
            "allowed": view.allowed, "reason": view.reason, "message": view.message}


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
    denied = _token_allows(caller, workflow=workflow)
    if denied is not None:
        return _error(denied)
    try:
        session, reused = services.create_chat(
            user=caller.user, organization=caller.organization, app_id=app_id(), workflow=workflow,
            force_new=payload.force_new, capability_id=payload.capability_id, can_manage=caller.can_manage)
    except services.ChatError as error:
        return _error(error)
    body = _started(request, session, reused, payload.capability_id)
    body["capability_id"] = payload.capability_id
    return JsonResponse(body)

