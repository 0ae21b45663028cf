"""Who may join a chat socket, and how bad frames are answered (WebsocketCommunicator)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from channels.db import database_sync_to_async

from mozaiks_core.auth import tokens
from mozaiks_core.runtime import services
from tests.runtime.transport.conftest import Client, new_chat, socket_path

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(path: str) -> dict[str, Any]:
    client = Client(path)
    assert await client.connect()
    error = await client.next()
    closed = await client.next()
    assert closed == {"type": "__closed__", "code": 1008}
    return error["data"]


def expired_token(session: Any) -> str:
    now = int(time.time())
    claims = {"iss": tokens.ISSUER, "aud": tokens.token_audience(), "sub": str(session.user_id),
              "organization": str(session.organization_id), "app_id": session.app_id, "chat_id": session.chat_id,
              "workflow": session.workflow, "iat": now - 3600, "exp": now - 60, "jti": "x", "token_use": "execution"}
    key = tokens.current_signing_key()  # the configured key and algorithm (HS256, RS256 or ES256)
    return jwt.encode(claims, key.signing_key, algorithm=key.algorithm, headers={"kid": key.kid})


async def test_sockets_without_a_valid_token_or_for_someone_elses_chat_close_with_1008(
    alice: Any, mallory: Any
) -> None:
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    assert (await refused(await database_sync_to_async(socket_path)(chat, None)))["error_code"] == \
        "AUTHENTICATION_REQUIRED"
    forged = jwt.encode({"sub": str(alice.pk)}, "not-the-key-" * 4, algorithm="HS256")  # 48 bytes: PyJWT warns under 32
    assert (await refused(await database_sync_to_async(socket_path)(chat, forged)))["error_code"] == "TOKEN_INVALID"
    expired = await database_sync_to_async(expired_token)(chat)
    assert (await refused(await database_sync_to_async(socket_path)(chat, expired)))["error_code"] == "TOKEN_EXPIRED"

    mallorys = await database_sync_to_async(new_chat)(mallory, "Chatter")
    mallory_token = await database_sync_to_async(services.issue_chat_token)(mallorys)
    # Her token on alice's path, and alice's chat under her own user id: both refused alike.
    assert (await refused(await database_sync_to_async(socket_path)(chat, mallory_token)))["error_code"] == \
        "CHAT_ACCESS_DENIED"
    path = f"/ws/Chatter/{chat.app_id}/{chat.chat_id}/{mallory.pk}?access_token={mallory_token}"
    assert (await refused(path))["error_code"] == "CHAT_ACCESS_DENIED"
    # A valid token of alice's for another workflow or chat does not open this one.
    token = await database_sync_to_async(services.issue_chat_token)(chat)
    assert (await refused(f"/ws/HelloUI/{chat.app_id}/{chat.chat_id}/{alice.pk}?access_token={token}"))[
        "error_code"] == "CHAT_ACCESS_DENIED"


async def test_bad_frames_get_a_structured_error_and_the_socket_stays_open(alice: Any) -> None:
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = Client(await database_sync_to_async(socket_path)(chat))
    assert await client.connect()
    await client.next()
    await client.communicator.send_to(bytes_data=b"\x89PNG")
    assert (await client.until("chat.error"))["data"]["error_code"] == "SCHEMA_VALIDATION_FAILED"
    cases = [("{", "SCHEMA_VALIDATION_FAILED"), ('"just a string"', "SCHEMA_VALIDATION_FAILED"),
             ('{"type": "admin.shutdown"}', "SCHEMA_VALIDATION_FAILED"),
             ('{"type": "user.input.submit", "data": {"text": ""}}', "SCHEMA_VALIDATION_FAILED"),
             ('{"type": "ui_tool_response", "data": {"response": {}}}', "SCHEMA_VALIDATION_FAILED"),
             ('{"type": "client.resume", "data": []}', "SCHEMA_VALIDATION_FAILED"),
             ('{"type": "ui_tool_response", "eventId": "ghost", "response": 1}', "UNKNOWN_REQUEST"),
             ('{"type": "user.input.submit", "text": "x", "input_request_id": "ghost"}', "UNKNOWN_REQUEST"),
             ('{"type": "chat.start_workflow"}', None)]
    for text, code in cases:
        await client.send(text)
        frame = await client.next()
        if code is None:
            assert frame["type"] == "ack.start_workflow"
            continue
        assert frame["type"] == "chat.error", frame
        assert "seq" not in frame
        assert frame["data"]["error_code"] == code
        assert frame["data"]["message"]
    await client.send({"type": "chat.start_workflow"})
    assert (await client.until("chat.error"))["data"]["error_code"] == "RUN_ALREADY_ACTIVE"
    await database_sync_to_async(services.cancel_chat)(chat)
    await client.until("chat.run_complete")
    await client.close()


async def test_the_server_pings_idle_sockets_without_a_seq(alice: Any, settings: Any) -> None:
    settings.MOZAIKS_WS_PING_SECONDS = 0.2
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = Client(await database_sync_to_async(socket_path)(chat))
    assert await client.connect()
    assert (await client.next())["type"] == "chat_meta"
    ping = await client.until("ping", timeout=3)
    assert "seq" not in ping
    await client.close()
