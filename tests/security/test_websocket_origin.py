"""Cross-site WebSocket hijacking: a real uvicorn refuses chat sockets opened from a foreign Origin.

A browser attaches the session cookie to a WebSocket handshake from any page, so the Origin
check is what stops evil.example from opening a victim's chat. Refused handshakes get HTTP 403
before the consumer runs; the same origin is accepted and gets ``chat_meta``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from tests.runtime.transport.conftest import new_chat
from tests.runtime.transport.live import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FOREIGN = ["http://evil.example", "https://127.0.0.1.evil.example", "null", "http://localhost.evil.example:80"]


async def _handshake(url: str, origin: str | None, cookie: str | None = None) -> int | dict[str, Any]:
    """The HTTP status of a refused handshake, or the first frame of an accepted one."""
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
    try:
        async with websockets.connect(url, origin=origin, additional_headers=headers, open_timeout=10) as socket:
            return json.loads(await asyncio.wait_for(socket.recv(), 10))
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


async def test_chat_sockets_from_a_foreign_origin_are_refused_and_the_same_origin_is_accepted(
        asgi_server: Any, alice: Any) -> None:
    server = await database_sync_to_async(asgi_server)(server="uvicorn")
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    path = await database_sync_to_async(services.websocket_path)(chat)
    token = await database_sync_to_async(services.issue_chat_token)(chat)
    cookie = await database_sync_to_async(session_cookie)(alice)
    with_token = f"{server.info['ws_url']}{path}?access_token={token}"
    with_cookie = f"{server.info['ws_url']}{path}"
    for origin in FOREIGN:
        assert await _handshake(with_cookie, origin, cookie) == 403, f"cookie socket from {origin}"
        assert await _handshake(with_token, origin) == 403, f"token socket from {origin}"
    assert await _handshake(with_cookie, None, cookie) == 403, "a handshake without Origin is refused"
    for url, cookie_value in ((with_cookie, cookie), (with_token, None)):
        frame = await _handshake(url, server.info["url"], cookie_value)
        assert isinstance(frame, dict), frame
        assert frame["type"] == "chat_meta"
        assert frame["data"]["chat_id"] == chat.chat_id
