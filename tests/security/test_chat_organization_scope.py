"""Chats are scoped by the credential's organization: a key of organization A never reaches chats in B.

The attack: Carol owns Alpha and is a member of Beta, where she has a chat waiting on her answer.
An API key she created for Alpha (a CI job's key, say) must not export, read, cancel or answer
that chat, although it is Carol's own.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.tokens import issue_execution_token
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.transport.consumers import POLICY_VIOLATION
from tests.runtime.transport.conftest import APP_ID, Client
from tests.security.teams import ORG_HEADER, bearer, call, chat_calls, signed_in, team, untouched, waiting_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def carol() -> dict[str, Any]:
    """Carol: owner of Alpha (with an API key of Alpha) and member of Beta (with a chat in Beta)."""
    alpha = team("Alpha")
    carol = alpha.owner
    beta = team("Beta", member=carol)
    key = create_api_key(Membership.objects.get(user=carol, organization=alpha.organization), name="alpha ci",
                         scopes=["read", "write"]).secret
    return {"user": carol, "alpha": alpha.organization, "beta": beta.organization, "key": key,
            "chat": waiting_chat(carol, beta.organization)}


def test_an_api_key_of_one_organization_does_not_reach_its_creators_chats_in_another(carol: dict[str, Any]) -> None:
    chat = carol["chat"]
    key = bearer(carol["key"])
    for name, (method, path, body) in chat_calls(chat).items():
        response = call(key, method, path, body)
        assert response.status_code == 404, f"{name}: Alpha's key reached Beta's chat ({response.status_code})"
        assert b"2027-01-15" not in response.content
    exists = key.get(f"/api/chats/exists/{APP_ID}/{chat.chat_id}").json()
    assert exists["exists"] is False
    listed = key.get(f"/api/sessions/list/{APP_ID}/{carol['user'].pk}").json()["sessions"]
    assert chat.chat_id not in [item["chat_id"] for item in listed]
    assert untouched(chat), "Alpha's key answered or cancelled Beta's chat"


def test_a_session_acting_for_one_organization_does_not_reach_chats_of_another(carol: dict[str, Any]) -> None:
    chat = carol["chat"]
    session = signed_in(carol["user"])
    for name, (method, path, body) in chat_calls(chat).items():
        response = call(session, method, path, body, **{ORG_HEADER: str(carol["alpha"].pk)})
        assert response.status_code == 404, f"{name}: a session acting for Alpha reached Beta's chat"
    assert untouched(chat)
    # Acting for Beta, where the chat lives, Carol reaches it: the refusals above are about the organization.
    meta = session.get(f"/api/chats/meta/{APP_ID}/{chat.chat_id}", **{ORG_HEADER: carol["beta"].slug})
    assert meta.status_code == 200
    assert meta.json()["chat_id"] == chat.chat_id


async def test_a_token_of_a_chat_in_one_organization_opens_no_socket_of_a_chat_in_another(
    carol: dict[str, Any],
) -> None:
    chat = carol["chat"]

    def alpha_token_for_beta_chat() -> str:
        # A token whose organization claim is Alpha but whose chat claim names Beta's chat: the
        # socket must compare the chat's own organization, not only the user and the path.
        mine = ChatSession.objects.create(user=carol["user"], organization=carol["alpha"], app_id=APP_ID,
                                          workflow="Chatter")
        token = issue_execution_token(user_id=carol["user"].pk, organization_id=mine.organization_id,
                                               app_id=APP_ID, chat_id=chat.chat_id, workflow=chat.workflow)
        return f"{services.websocket_path(chat)}?access_token={token}"

    client = Client(await database_sync_to_async(alpha_token_for_beta_chat)())
    assert await client.connect()
    refusal = await client.next()
    assert refusal["data"]["error_code"] == "CHAT_ACCESS_DENIED"
    assert (await client.next())["code"] == POLICY_VIOLATION
