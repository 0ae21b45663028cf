"""A removed member against a real server: uvicorn on the Redis channel layer, removal from another process.

Bob chats in Acme over a real WebSocket; the chat waits on his answer. The owner removes him in
another process (this one). His open socket is closed (4003) within moments, the pre-removal
``?access_token=`` no longer opens a socket, his session cannot answer over HTTP, and nothing
more is charged to Acme.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.entitlements.models import UsageEvent
from mozaiks_core.runtime.models import ChatSession, PendingRequest
from mozaiks_core.runtime.transport.consumers import CREDENTIAL_REVOKED, POLICY_VIOLATION
from tests.runtime.transport.conftest import APP_ID
from tests.runtime.transport.live import LiveSocket, post_json, session_cookie
from tests.security.teams import remove_member, team

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


async def test_removing_a_member_closes_their_socket_on_another_server_and_their_token_opens_no_new_one(
    asgi_server: Any, redis_channel_layer: str, redis_url: str,
) -> None:
    server = asgi_server(server="uvicorn", env={"REDIS_URL": redis_url, "MOZAIKS_CHANNEL_PREFIX": redis_channel_layer,
                                                "MOZAIKS_RUN_EXECUTOR": "asyncio", "MOZAIKS_CELERY_EAGER": "true"})
    acme = await database_sync_to_async(team)("Acme")
    cookie = await database_sync_to_async(session_cookie)(acme.member)
    acting_for_acme = {"X-Mozaiks-Organization": str(acme.organization.pk)}
    status, started = await database_sync_to_async(post_json)(
        f"{server.info['url']}/api/chats/{APP_ID}/Chatter/start", {}, session=cookie, headers=acting_for_acme)
    assert status == 200, started
    socket = await LiveSocket.open(started["websocket_url"], server.info["url"])
    await socket.until("chat_meta")
    await socket.send({"type": "user.input.submit", "data": {"text": "Hello"}})
    request_id = (await socket.until("chat.input_request"))["data"]["request_id"]
    usage = await database_sync_to_async(lambda: UsageEvent.objects.filter(organization=acme.organization).count())()

    removed_at = time.monotonic()
    await database_sync_to_async(remove_member)(acme)
    assert await socket.closed_code(timeout=5) == CREDENTIAL_REVOKED
    closed_after = time.monotonic() - removed_at
    assert closed_after < 3, f"the socket stayed open {closed_after:.1f}s after the removal"
    assert socket.frames[-1]["data"]["error_code"] == "MEMBERSHIP_ENDED"

    again = await LiveSocket.open(started["websocket_url"], server.info["url"])
    assert await again.closed_code() == POLICY_VIOLATION
    assert again.frames[0]["data"]["error_code"] == "MEMBERSHIP_ENDED"
    assert "chat_meta" not in [frame["type"] for frame in again.frames]

    for headers in ({}, acting_for_acme):
        status, body = await database_sync_to_async(post_json)(
            f"{server.info['url']}/api/user-input/submit",
            {"chat_id": started["chat_id"], "text": "ship it", "input_request_id": request_id},
            session=cookie, headers=headers)
        assert status in (403, 404), body

    def after() -> tuple[bool, str, int]:
        answered = PendingRequest.objects.filter(request_id=request_id, answered_at__isnull=False).exists()
        chat = ChatSession.objects.get(chat_id=started["chat_id"])
        return answered, chat.status, UsageEvent.objects.filter(organization=acme.organization).count()

    answered, chat_status, usage_after = await database_sync_to_async(after)()
    assert not answered
    assert chat_status == ChatSession.Status.CANCELLED, "the removed member's run kept its claim on Acme's quota"
    assert usage_after == usage
