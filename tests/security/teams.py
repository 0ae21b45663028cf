"""Two organizations, members of each role, and chats waiting on an answer: the attacks' setting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.test import Client as HttpClient
from django.utils import timezone

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.services import create_organization
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest
from tests.runtime.transport.conftest import APP_ID, make_user

ORG_HEADER = "HTTP_X_MOZAIKS_ORGANIZATION"


@dataclass
class Team:
    """A team organization with its owner and one more member."""

    organization: Organization
    owner: Any
    member: Any

    @property
    def membership(self) -> Membership:
        """The member's current membership (fails once they left)."""
        return Membership.objects.get(user=self.member, organization=self.organization)


def team(name: str, role: str = Membership.Role.MEMBER, member: Any = None) -> Team:
    """A new organization ``name`` with a fresh owner and ``member`` (a new user when None) in ``role``."""
    tag = uuid.uuid4().hex[:8]
    owner = make_user(f"owner-{tag}@example.com")
    member = member or make_user(f"member-{tag}@example.com")
    organization = create_organization(name=name, owner=owner)
    Membership.objects.create(user=member, organization=organization, role=role)
    return Team(organization, owner, member)


def signed_in(user: Any) -> HttpClient:
    """A test client with ``user``'s session (the test client skips CSRF checks)."""
    client = HttpClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def bearer(token: str) -> HttpClient:
    """A test client that sends ``Authorization: Bearer <token>``."""
    return HttpClient(headers={"Authorization": f"Bearer {token}"})


def waiting_chat(user: Any, organization: Organization, workflow: str = "Chatter") -> ChatSession:
    """A chat of ``user`` in ``organization`` with one stored message, an open input request and an open UI tool."""
    chat = ChatSession.objects.create(user=user, organization=organization, app_id=APP_ID, workflow=workflow,
                                      status=ChatSession.Status.WAITING_INPUT, heartbeat_at=timezone.now(),
                                      title=f"Secret plans {uuid.uuid4().hex[:6]}", last_seq=0)
    ChatEvent.objects.create(chat=chat, seq=0, type="chat.text", event_id=uuid.uuid4().hex, created_at=timezone.now(),
                             payload={"agent": "ChatterAgent", "content": "The launch date is 2027-01-15."})
    for kind in (PendingRequest.Kind.INPUT, PendingRequest.Kind.UI_TOOL):
        PendingRequest.objects.create(chat=chat, request_id=uuid.uuid4().hex, kind=kind, seq=0,
                                      frame={"type": "chat.input_request", "data": {}})
    return chat


def open_request(chat: ChatSession, kind: str) -> PendingRequest:
    """The chat's request of ``kind`` (answered or not)."""
    return PendingRequest.objects.get(chat=chat, kind=kind)


def remove_member(squad: Team) -> None:
    """The owner removes the member through the API (``DELETE /api/orgs/{org}/members/{id}``)."""
    response = signed_in(squad.owner).delete(
        f"/api/orgs/{squad.organization.pk}/members/{squad.membership.pk}")
    assert response.status_code == 204, response.content


def chat_calls(chat: ChatSession) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """Every HTTP path to ``chat``, its events and its answers: name -> (method, path, body)."""
    input_id = open_request(chat, PendingRequest.Kind.INPUT).request_id
    tool_id = open_request(chat, PendingRequest.Kind.UI_TOOL).request_id
    return {
        "export": ("get", f"/api/chats/{chat.chat_id}/events.ndjson", None),
        "meta": ("get", f"/api/chats/meta/{APP_ID}/{chat.chat_id}", None),
        "cancel": ("post", f"/api/chats/{chat.chat_id}/cancel", {}),
        "user input": ("post", "/api/user-input/submit",
                       {"chat_id": chat.chat_id, "text": "ship it", "input_request_id": input_id}),
        "ui tool": ("post", "/api/ui-tool/submit", {"event_id": tool_id, "response_data": {"ok": True}}),
    }


def call(client: HttpClient, method: str, path: str, body: dict[str, Any] | None, **headers: str) -> Any:
    """One request of :func:`chat_calls` (JSON body for POST)."""
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, body, content_type="application/json", **headers)


def untouched(chat: ChatSession) -> bool:
    """Whether the chat's requests are unanswered and it was not cancelled."""
    chat.refresh_from_db()
    answered = PendingRequest.objects.filter(chat=chat, answered_at__isnull=False).exists()
    return not answered and chat.status != ChatSession.Status.CANCELLED
