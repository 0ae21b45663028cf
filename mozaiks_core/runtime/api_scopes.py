"""Data scopes of the runtime's HTTP API (chats, sessions, requests, capabilities, workflows).

A chat belongs to the user who started it: every chat route is caller-scoped (another user,
even an admin of the same organization, never reaches it). Starting or launching creates the
caller's own chat in the caller's active organization, whose plan decides. The workflow and
capability lists need a signed-in caller and show no other account's data.

The factories build one chat of ``owner`` in ``organization`` and a marker only the owner's
answer may contain; ``tests/integration/test_caller_scoping.py`` calls each route as another
member of the same organization and as another organization's admin.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.utils import timezone

from mozaiks_core.auth.models import Organization
from mozaiks_core.auth.scoping import DataScope, ScopedCall, caller_scope, org_scope
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest, UsageRecord
from mozaiks_core.workspace_info import app_id

_VIEWS = "mozaiks_core.runtime.api"
_CHATUI = "mozaiks_core.runtime.chatui_api"


def _workflow() -> str:
    """A loaded workflow every signed-in user may start (one gated to a plan would refuse the owner)."""
    from mozaiks_core.entitlements.capabilities import declared_capabilities

    gated = {spec.workflow for spec in declared_capabilities()
             if spec.entitlement or spec.plans or spec.visibility != "user" or not spec.enabled}
    names = [name for name in services.workflow_names() if name not in gated] or services.workflow_names()
    if not names:
        raise LookupError("the scoping check needs a loaded workflow that capabilities.yaml does not name")
    return names[0]


def _chat(organization: Organization, owner: Any, **fields: Any) -> ChatSession:
    return ChatSession.objects.create(user=owner, organization=organization, app_id=app_id(), workflow=_workflow(),
                                      title=f"Scoped chat {uuid.uuid4().hex[:10]}", **fields)


def _pending(chat: ChatSession, kind: str) -> PendingRequest:
    return PendingRequest.objects.create(chat=chat, request_id=uuid.uuid4().hex, kind=kind, seq=0,
                                         frame={"type": "chat.input_request", "data": {}})


def chat_to_restart(organization: Organization, owner: Any) -> ScopedCall:
    """Starting with the client request id of the owner's chat reuses that chat only for the owner."""
    chat = _chat(organization, owner, client_request_id=uuid.uuid4().hex)
    return ScopedCall(path_params={"app_id": chat.app_id, "workflow": chat.workflow},
                      json={"client_request_id": chat.client_request_id}, marker=chat.chat_id)


def chat_to_relaunch(organization: Organization, owner: Any) -> ScopedCall:
    """Launching the capability of the owner's unstarted chat reuses it only for the owner."""
    chat = _chat(organization, owner)
    return ScopedCall(json={"capability_id": chat.workflow}, marker=chat.chat_id)


def waiting_ui_tool(organization: Organization, owner: Any) -> ScopedCall:
    """A UI tool the owner's chat waits on; the answer names the chat (the request does not)."""
    chat = _chat(organization, owner, status=ChatSession.Status.WAITING_INPUT)
    request = _pending(chat, PendingRequest.Kind.UI_TOOL)
    return ScopedCall(json={"event_id": request.request_id, "response_data": {"ok": True}}, marker=chat.chat_id)


def waiting_input(organization: Organization, owner: Any) -> ScopedCall:
    """An input request of the owner's chat; only the owner's answer is accepted."""
    chat = _chat(organization, owner, status=ChatSession.Status.WAITING_INPUT)
    request = _pending(chat, PendingRequest.Kind.INPUT)
    return ScopedCall(json={"chat_id": chat.chat_id, "text": "hello", "input_request_id": request.request_id},
                      marker='"answered"')


def titled_chat(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's chat, whose title only its metadata shows."""
    chat = _chat(organization, owner)
    return ScopedCall(path_params={"app_id": chat.app_id, "chat_id": chat.chat_id}, marker=chat.title)


def existing_chat(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's chat exists for the owner only."""
    chat = _chat(organization, owner)
    return ScopedCall(path_params={"app_id": chat.app_id, "chat_id": chat.chat_id}, marker='"exists": true')


def existing_workflow_chat(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's chat exists, under its workflow, for the owner only (the ChatUI's spelling)."""
    chat = _chat(organization, owner)
    return ScopedCall(path_params={"app_id": chat.app_id, "workflow": chat.workflow, "chat_id": chat.chat_id},
                      marker='"exists": true')


def running_chat(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's running chat; only the owner cancels it."""
    chat = _chat(organization, owner, status=ChatSession.Status.RUNNING, heartbeat_at=timezone.now())
    return ScopedCall(path_params={"chat_id": chat.chat_id}, marker='"cancelled": true')


def listed_chat(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's chat in the owner's session list."""
    chat = _chat(organization, owner)
    return ScopedCall(path_params={"app_id": chat.app_id, "user_id": owner.pk}, marker=chat.title)


def chat_with_events(organization: Organization, owner: Any) -> ScopedCall:
    """The owner's chat with one persisted message, which only the owner's export contains."""
    chat = _chat(organization, owner, last_seq=0)
    text = f"Scoped message {uuid.uuid4().hex[:10]}"
    ChatEvent.objects.create(chat=chat, seq=0, type="chat.text", payload={"agent": "user", "content": text},
                             event_id=uuid.uuid4().hex, created_at=timezone.now())
    return ScopedCall(path_params={"chat_id": chat.chat_id}, marker=text)


def priced_usage(organization: Organization, owner: Any) -> ScopedCall:
    """Org A's chat made one LLM call of a distinctive token count: its usage per user shows that number."""
    session = _chat(organization, owner)
    tokens = 600_000 + secrets.randbelow(99_999)
    UsageRecord.objects.create(chat=session, agent="Agent", model="gpt-4o-mini", prompt_tokens=tokens,
                               completion_tokens=0, total_tokens=tokens, workflow=session.workflow, user=owner,
                               organization=organization, transaction_id=f"scope-{uuid.uuid4().hex}")
    return ScopedCall(query={"group_by": "user"}, marker=str(tokens))


API_SCOPES: dict[str, DataScope] = {
    f"{_VIEWS}.start_chat": caller_scope(chat_to_restart),
    f"{_VIEWS}.launch": caller_scope(chat_to_relaunch),
    f"{_VIEWS}.submit_ui_tool": caller_scope(waiting_ui_tool),
    f"{_VIEWS}.submit_user_input": caller_scope(waiting_input),
    f"{_VIEWS}.chat_meta": caller_scope(titled_chat),
    f"{_VIEWS}.chat_exists": caller_scope(existing_chat),
    f"{_VIEWS}.cancel_chat": caller_scope(running_chat),
    f"{_VIEWS}.list_sessions": caller_scope(listed_chat),
    f"{_VIEWS}.export_events": caller_scope(chat_with_events),
    f"{_VIEWS}.capabilities": caller_scope(),
    f"{_VIEWS}.list_workflows": caller_scope(),
    f"{_VIEWS}.llm_usage": org_scope(priced_usage, manage=True),
    f"{_CHATUI}.workflows_map": caller_scope(),
    f"{_CHATUI}.workflow_transport": caller_scope(),
    f"{_CHATUI}.chat_exists_in_workflow": caller_scope(existing_workflow_chat),
    f"{_CHATUI}.list_general_chats": caller_scope(),
}
