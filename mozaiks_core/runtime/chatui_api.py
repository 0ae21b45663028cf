"""The MozaiksAI reference server's HTTP routes that the ChatUI calls, in the reference's shapes.

``GET /api/workflows`` is the reference's map by workflow name (our richer list is
``GET /api/workflows/catalog``); ``/workflows/{workflow}/transport``, the ChatUI's
``/chats/exists/{app_id}/{workflow}/{chat_id}`` and ``/general_chats/list/{app_id}/{user_id}``
(general "Ask" chats do not exist here: the list is empty) complete what the client reads.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.security import api_auth
from mozaiks_core.runtime import services
from mozaiks_core.runtime.api import chat_of_caller

router = Router(tags=["runtime"])


def workflow_config(name: str) -> dict[str, Any]:
    """One workflow as the reference's ``/api/workflows`` map shows it (orchestrator, UI config, UI tools)."""
    bundle = services.get_bundle(name)
    orchestrator = bundle.orchestrator
    return {
        "workflow_name": name, "name": name, "entry_point": orchestrator.entry_point,
        "startup_mode": orchestrator.startup_mode, "human_in_the_loop": orchestrator.human_in_the_loop,
        "orchestration_pattern": orchestrator.orchestration_pattern, "max_turns": orchestrator.max_turns,
        "initial_agent": bundle.entry_agent, "initial_message_to_user": orchestrator.initial_message_to_user,
        "description": orchestrator.description,
        "visual_agents": list(bundle.visual_agents) if bundle.visual_agents is not None else list(bundle.agents),
        "ui_tools": [{"tool_name": tool.name, "component": tool.ui.component, "mode": tool.ui.mode,
                      "agent": tool.agents[0] if tool.agents else ""} for tool in bundle.tools if tool.ui],
        "transport": "websocket",
    }


def _workflows_in_order() -> list[str]:
    """Workflow names, the app's entry point first (the ChatUI's default is the first one)."""
    names = services.workflow_names()
    return sorted(names, key=lambda name: (not services.get_bundle(name).orchestrator.entry_point, name))


@router.get("/workflows", auth=api_auth)
def workflows_map(request: HttpRequest) -> HttpResponse:
    """``{workflow_name: {entry_point, startup_mode, human_in_the_loop, visual_agents, ...}}``."""
    return JsonResponse({name: workflow_config(name) for name in _workflows_in_order()})


@router.get("/workflows/{workflow}/transport", auth=api_auth)
def workflow_transport(request: HttpRequest, workflow: str) -> HttpResponse:
    """How a client reaches a workflow's chats: always the chat WebSocket."""
    if services.get_bundle(workflow) is None:
        return JsonResponse({"error": "WORKFLOW_NOT_FOUND", "message": f"There is no workflow called {workflow!r}; "
                             "GET /api/workflows lists them.", "workflow": workflow}, status=404)
    return JsonResponse({"workflow_name": workflow, "transport": "websocket", "endpoints": {
        "websocket": f"/ws/{workflow}/{{app_id}}/{{chat_id}}/{{user_id}}", "input": "/api/user-input/submit"}})


@router.get("/chats/exists/{app_id}/{workflow}/{chat_id}", auth=api_auth)
def chat_exists_in_workflow(request: HttpRequest, app_id: str, workflow: str, chat_id: str) -> HttpResponse:
    """``{exists}`` for the caller's chat of this app and workflow (false for anyone else's)."""
    session = chat_of_caller(get_caller(request), chat_id)
    exists = session is not None and session.app_id == app_id and session.workflow == workflow
    return JsonResponse({"exists": exists, "chat_id": chat_id})


@router.get("/general_chats/list/{app_id}/{user_id}", auth=api_auth)
def list_general_chats(request: HttpRequest, app_id: str, user_id: str, limit: int = 50) -> HttpResponse:
    """General ("Ask" mode) chats: this runtime has none, so the caller's list is empty."""
    if user_id != str(get_caller(request).user.pk):
        return JsonResponse({"error": "NOT_FOUND", "message": "You can list only your own chats."}, status=404)
    return JsonResponse({"sessions": [], "count": 0})
