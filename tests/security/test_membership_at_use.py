"""Membership is checked at use: a removed member's credentials stop working the moment they are removed.

The attack: Bob, a member of Acme, has a chat waiting on his answer. The owner removes him
(``DELETE /api/orgs/{org}/members/{id}``, 204). From then on his session, his API keys, the
execution token he held and his open socket reach nothing of Acme's, and keys he had stay dead
when he is invited back.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import PendingRequest
from mozaiks_core.runtime.transport.consumers import CREDENTIAL_REVOKED
from tests.runtime.transport.conftest import APP_ID, Client
from tests.security.teams import (
    ORG_HEADER,
    bearer,
    call,
    chat_calls,
    open_request,
    remove_member,
    signed_in,
    team,
    waiting_chat,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_removed_members_session_no_longer_opens_exports_or_answers_the_organizations_chats() -> None:
    acme = team("Acme")
    chat = waiting_chat(acme.member, acme.organization)
    bob = signed_in(acme.member)
    acting_for_acme = {ORG_HEADER: str(acme.organization.pk)}
    assert bob.get(f"/api/chats/{chat.chat_id}/events.ndjson", **acting_for_acme).status_code == 200
    assert bob.get(f"/chat/{chat.chat_id}/").status_code == 200

    remove_member(acme)

    for headers in ({}, acting_for_acme):
        for name, (method, path, body) in chat_calls(chat).items():
            response = call(bob, method, path, body, **headers)
            assert response.status_code in (403, 404), f"{name} {headers}: {response.status_code} after removal"
            assert b"2027-01-15" not in response.content
    assert bob.get(f"/chat/{chat.chat_id}/").status_code == 404
    assert chat.title not in bob.get("/chat/").content.decode()
    assert not PendingRequest.objects.filter(chat=chat, answered_at__isnull=False).exists()


async def test_an_open_socket_refuses_the_answer_of_a_member_removed_behind_its_back() -> None:
    """The fallback: the removal's message never reached this process (the membership row simply went),
    so the socket finds out when the removed member's next frame arrives, and refuses it."""

    def setting() -> tuple[Any, Any, str]:
        acme = team("Acme")
        chat = waiting_chat(acme.member, acme.organization)
        return acme, chat, f"{services.websocket_path(chat)}?access_token={services.issue_chat_token(chat)}"

    acme, chat, path = await database_sync_to_async(setting)()
    socket = Client(path)
    assert await socket.connect()
    await socket.until("chat_meta")

    def delete_behind_its_back() -> str:
        with connection.cursor() as cursor:  # no signal, no message: as if another process's publish was lost
            cursor.execute("DELETE FROM mozaiks_auth_membership WHERE id = %s", [acme.membership.pk])
        return open_request(chat, PendingRequest.Kind.INPUT).request_id

    request_id = await database_sync_to_async(delete_behind_its_back)()
    await socket.send({"type": "user.input.submit", "data": {"text": "ship it", "input_request_id": request_id}})
    refusal = await socket.until("chat.error")  # after the transcript the socket replays on connect
    assert refusal["data"]["error_code"] == "MEMBERSHIP_ENDED"
    assert (await socket.next())["code"] == CREDENTIAL_REVOKED
    answered = await database_sync_to_async(
        lambda: PendingRequest.objects.filter(chat=chat, answered_at__isnull=False).exists())()
    assert not answered, "the removed member's answer was accepted"


@pytest.mark.parametrize("how", ["removed", "left"])
def test_a_former_members_api_keys_and_tokens_stay_dead_when_they_rejoin(how: str) -> None:
    acme = team("Acme", role=Membership.Role.ADMIN)
    chat = waiting_chat(acme.member, acme.organization)
    key = create_api_key(acme.membership, name="bob's script", scopes=["read", "write"]).secret
    token = services.issue_chat_token(chat)
    meta = f"/api/chats/meta/{APP_ID}/{chat.chat_id}"
    assert bearer(key).get("/api/me").status_code == 200
    assert bearer(token).get(meta).status_code == 200

    if how == "removed":
        remove_member(acme)
    else:
        left = signed_in(acme.member).post(f"/api/orgs/{acme.organization.pk}/leave")
        assert left.status_code == 204, left.content
    assert APIKey.objects.get(created_by=acme.member).status == "revoked"

    Membership.objects.create(user=acme.member, organization=acme.organization, role=Membership.Role.ADMIN)
    refused = bearer(key).get("/api/me")
    assert refused.status_code == 401
    assert refused.json()["error"] == "API_KEY_INVALID"
    assert "revoked" in refused.json()["message"]
    assert bearer(token).get(meta).status_code == 401, "a token minted before the removal works again"
