"""Faults (1) and (5): sockets move between the two ASGI processes mid-run without losing or repeating events.

Two uvicorn processes and one Celery worker share PostgreSQL/SQLite and the Redis pub/sub layer.
Four chats start on process A. After the first turn half of the clients reconnect to process B
(``?last_seq=`` with the last seq they hold); during the third turn process A is SIGKILLed and
the other half reconnect to B too. Every client's frames, joined across its two sockets, must be
exactly the chat's stored events: seq 0..n, nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from tests.runtime.transport.conftest import make_user, new_chat
from tests.runtime.transport.live import LiveSocket

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
CHATS = 4  # the test worker runs 4 threads, and a run waiting for input holds one


class Chat:
    """One user's chat and the sockets it used, in order."""

    def __init__(self, session: ChatSession, token: str) -> None:
        self.session, self.token, self.sockets = session, token, []

    async def open(self, server: Any, resume: bool) -> LiveSocket:
        url = f"{server.info['ws_url']}{services.websocket_path(self.session)}?access_token={self.token}"
        if resume:
            url += f"&last_seq={self.last_seq()}"
        socket = await LiveSocket.open(url, server.info["url"])
        await socket.until("chat_meta")
        if resume:
            await socket.until("chat.resume_boundary")
        self.sockets.append(socket)
        return socket

    @property
    def socket(self) -> LiveSocket:
        return self.sockets[-1]

    def seqs(self) -> list[int]:
        return [seq for socket in self.sockets for seq in socket.seqs()]

    def input_requests(self) -> int:
        return sum(1 for socket in self.sockets for frame in socket.frames
                   if frame["type"] == "chat.input_request" and "seq" in frame)

    def last_seq(self) -> int:
        return max(self.seqs(), default=-1)

    async def turn(self, text: str) -> None:
        """Send a message and wait for the run's next input request (a new event, not a re-sent one)."""
        expected = self.input_requests() + 1
        await self.socket.send({"type": "user.input.submit", "text": text})
        await self.next_request(expected)

    async def next_request(self, expected: int) -> None:
        while self.input_requests() < expected:
            await self.socket.until("chat.input_request", timeout=30)


async def _drain(socket: LiveSocket) -> None:
    """Keep the frames the dead server had already sent; stop at the closed connection."""
    with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
        await socket.until("__never__", timeout=10)


def _stored(session: ChatSession) -> list[int]:
    return list(ChatEvent.objects.filter(chat=session).order_by("seq").values_list("seq", flat=True))


async def test_clients_moving_to_the_other_asgi_process_and_surviving_its_death_lose_and_repeat_nothing(
        asgi_server: Any, celery_worker: Any, scaled: dict[str, str]) -> None:
    celery_worker(env=scaled)
    server_a = await database_sync_to_async(asgi_server)(server="uvicorn", env=scaled)
    server_b = await database_sync_to_async(asgi_server)(server="uvicorn", env=scaled)

    def setup() -> list[Chat]:
        chats = []
        for index in range(CHATS):
            session = new_chat(make_user(f"failover{index}@example.com"), "Chatter")
            chats.append(Chat(session, services.issue_chat_token(session)))
        return chats

    chats = await database_sync_to_async(setup)()
    await asyncio.gather(*(chat.open(server_a, resume=False) for chat in chats))
    await asyncio.gather(*(chat.turn("one") for chat in chats))

    movers, stayers = chats[: CHATS // 2], chats[CHATS // 2:]
    for chat in movers:  # fault (1): half the clients reconnect to the other process mid-run
        await chat.socket.close()
    await asyncio.gather(*(chat.open(server_b, resume=True) for chat in movers))
    await asyncio.gather(*(chat.turn("two") for chat in chats))

    for chat in stayers:  # fault (5): the process serving them dies while their runs answer
        await chat.socket.send({"type": "user.input.submit", "text": "three"})
        await chat.socket.until("ack.input")
    server_a.kill(signal.SIGKILL)
    await asyncio.gather(*(_drain(chat.socket) for chat in stayers))
    await asyncio.gather(*(chat.open(server_b, resume=True) for chat in stayers))
    await asyncio.gather(*(chat.turn("three") for chat in movers))
    for chat in stayers:  # the third answer reached them live before the kill or by replay after it
        await chat.next_request(3)
    await asyncio.gather(*(chat.turn("four") for chat in chats))

    for chat in chats:
        stored = await database_sync_to_async(_stored)(chat.session)
        assert chat.seqs() == stored, f"chat {chat.session.chat_id}: received {chat.seqs()}, stored {stored}"
        answers = [frame["data"]["content"] for socket in chat.sockets for frame in socket.frames
                   if frame["type"] == "chat.text" and frame["data"].get("agent") == "ChatterAgent"]
        assert answers == ["First answer.", "Second answer.", "Third answer.", "Fourth answer."]
        await database_sync_to_async(services.cancel_chat)(chat.session)
        await chat.socket.close()
