"""An execution token is narrow: its chat's runtime surface and nothing else, and it dies with its minter.

The attack: the token travels in a WebSocket URL (browser history, a proxy's log, a screenshot).
Whoever holds it must not manage the organization (leave it, list members, export its data,
create tasks), mint new tokens, or reach another chat; and once Bob logs out, or the API key
that minted it is revoked, it stops working.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.auth.api_keys import create_api_key, revoke_api_key
from mozaiks_core.auth.models import Membership
from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.transport.consumers import CREDENTIAL_REVOKED, POLICY_VIOLATION
from tests.runtime.transport.conftest import APP_ID, Client
from tests.security.teams import ORG_HEADER, bearer, signed_in, team

pytestmark = pytest.mark.django_db(transaction=True)


def started_with(client: Any, **headers: str) -> dict[str, Any]:
    """Start a Chatter chat through the API with ``client``; the answer carries the token."""
    response = client.post(f"/api/chats/{APP_ID}/Chatter/start", {"force_new": True},
                           content_type="application/json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_execution_token_reaches_its_chat_and_nothing_else() -> None:
    acme = team("Acme")
    other = started_with(signed_in(acme.member), **{ORG_HEADER: str(acme.organization.pk)})
    started = started_with(signed_in(acme.member), **{ORG_HEADER: str(acme.organization.pk)})
    token = bearer(started["access_token"])
    org = acme.organization.pk
    chats_before = ChatSession.objects.count()

    refused = {
        "leave the organization": token.post(f"/api/orgs/{org}/leave"),
        "list members": token.get(f"/api/orgs/{org}/members"),
        "export the tasks as CSV": token.get("/api/modules/tasks/export.csv"),
        "create a task": token.post("/api/modules/tasks/create_task", {"title": "planted by a token"},
                                    content_type="application/json"),
        "mint a new token": token.post(f"/api/chats/{APP_ID}/Chatter/start", {"force_new": True},
                                       content_type="application/json"),
        "launch a capability": token.post("/api/ai/launch", {"capability_id": "Chatter", "force_new": True},
                                          content_type="application/json"),
        "read the account": token.get("/api/me"),
        "list capabilities": token.get("/api/ai/capabilities"),
    }
    for what, response in refused.items():
        assert response.status_code == 403, f"the token could {what} ({response.status_code})"
        assert response.json()["error"] == "TOKEN_SCOPE", what
    assert Membership.objects.filter(user=acme.member, organization=acme.organization).exists()
    assert ChatSession.objects.count() == chats_before
    assert token.get(f"/api/chats/meta/{APP_ID}/{other['chat_id']}").status_code == 404

    own = started["chat_id"]
    assert token.get(f"/api/chats/meta/{APP_ID}/{own}").status_code == 200
    assert token.get(f"/api/chats/exists/{APP_ID}/{own}").json()["exists"] is True
    assert token.get(f"/api/chats/{own}/events.ndjson").status_code == 200
    listed = token.get(f"/api/sessions/list/{APP_ID}/{acme.member.pk}").json()["sessions"]
    assert [item["chat_id"] for item in listed] == [own]


async def test_an_execution_token_dies_when_the_session_that_minted_it_logs_out() -> None:
    def mint() -> tuple[Any, dict[str, Any]]:
        acme = team("Acme")
        session = signed_in(acme.member)
        return session, started_with(session, **{ORG_HEADER: str(acme.organization.pk)})

    session, started = await database_sync_to_async(mint)()
    meta = f"/api/chats/meta/{APP_ID}/{started['chat_id']}"
    assert (await database_sync_to_async(bearer(started["access_token"]).get)(meta)).status_code == 200
    path = started["websocket_url"].split("testserver", 1)[1]
    open_socket = Client(path)
    assert await open_socket.connect()
    await open_socket.until("chat_meta")

    await database_sync_to_async(session.logout)()

    assert (await open_socket.until("chat.error"))["data"]["error_code"] == "TOKEN_REVOKED"
    assert (await open_socket.next())["code"] == CREDENTIAL_REVOKED

    refused = await database_sync_to_async(bearer(started["access_token"]).get)(meta)
    assert refused.status_code == 401
    assert refused.json()["error"] == "TOKEN_REVOKED"
    socket = Client(path)
    assert await socket.connect()
    refusal = await socket.next()
    assert refusal["data"]["error_code"] == "TOKEN_REVOKED"
    assert (await socket.next())["code"] == POLICY_VIOLATION


def test_an_execution_token_minted_with_an_api_key_dies_when_the_key_is_revoked() -> None:
    acme = team("Acme", role=Membership.Role.ADMIN)
    created = create_api_key(acme.membership, name="worker", scopes=["read", "write"])
    started = started_with(bearer(created.secret))
    meta = f"/api/chats/meta/{APP_ID}/{started['chat_id']}"
    assert bearer(started["access_token"]).get(meta).status_code == 200

    revoke_api_key(Membership.objects.get(user=acme.owner, organization=acme.organization), created.api_key.pk)

    refused = bearer(started["access_token"]).get(meta)
    assert refused.status_code == 401
    assert refused.json()["error"] == "TOKEN_REVOKED"
