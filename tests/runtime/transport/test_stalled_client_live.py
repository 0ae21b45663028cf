"""A client that stops reading in the middle of a replay, over a real uvicorn socket (issue #8).

The stalled client is a raw TCP socket with a tiny receive buffer and no compression, so the
replay really fills the kernel buffers, uvicorn's write buffer and then the consumer's outbox.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import make_user, new_chat, socket_path, store_events
from tests.runtime.transport.live import LiveSocket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STALL_SECONDS = 1
STALLED_FOR = 4.0  # how long the client does not read: well past the stall timeout
BIG_EVENTS, BIG_PAYLOAD = 200, 64 * 1024  # ~13 MB: more than socket buffers plus a 50-frame outbox hold
SMALL_EVENTS = 20


def chat_with_events(email: str, count: int, content_bytes: int) -> ChatSession:
    """A Chatter chat of a new user that already holds ``count`` stored events."""
    session = new_chat(make_user(email), "Chatter")
    store_events(session, count, content_bytes)
    return session


class RawSocket:
    """A minimal blocking WebSocket client that reads only when told to (no per-message deflate)."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_json(self, frame: dict[str, Any]) -> None:
        data = json.dumps(frame).encode()
        assert len(data) < 126
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the TCP connection without a close frame")
            self.buffer += chunk
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def read_until_closed(self) -> tuple[list[str], int | None]:
        """Read what the server sent: the text frames' types, then the close code (None: no close frame)."""
        types: list[str] = []
        try:
            while True:
                first, second = self._take(2)
                length = second & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", self._take(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", self._take(8))
                payload = self._take(length)
                opcode = first & 0x0F
                if opcode == 0x8:
                    return types, struct.unpack("!H", payload[:2])[0]
                if opcode == 0x1:
                    types.append(json.loads(payload)["type"])
        except (TimeoutError, ConnectionError):
            return types, None

    def close(self) -> None:
        self.sock.close()


async def test_a_client_that_stops_reading_mid_replay_is_closed_with_4008_while_other_chats_are_served(
    asgi_server: Any,
) -> None:
    server = asgi_server(server="uvicorn", env={"MOZAIKS_WS_OUTBOX_FRAMES": "50",
                                                "MOZAIKS_WS_STALL_SECONDS": str(STALL_SECONDS)})
    big = await database_sync_to_async(chat_with_events)("stalled@example.com", BIG_EVENTS, BIG_PAYLOAD)
    small = await database_sync_to_async(chat_with_events)("healthy@example.com", SMALL_EVENTS, 100)
    big_path = await database_sync_to_async(socket_path)(big, last_seq=-1)
    small_path = await database_sync_to_async(socket_path)(small, last_seq=-1)

    stalled = await asyncio.to_thread(RawSocket, server.info["port"], big_path)  # replays all ...and never reads

    loop = asyncio.get_running_loop()
    stall_ends = loop.time() + STALLED_FOR
    replays = 0
    while loop.time() < stall_ends:
        healthy = await LiveSocket.open(f"{server.info['ws_url']}{small_path}", server.info["url"])
        boundary = await healthy.until("chat.resume_boundary", timeout=2)  # served promptly throughout
        assert boundary["data"]["replayed_events"] == SMALL_EVENTS
        await healthy.close()
        replays += 1
        await asyncio.sleep(0.2)
    assert replays >= 5

    # The server gave up while nobody read: once the client reads again it finds part of the
    # replay, then 4008, and never the boundary a finished replay ends with.
    types, code = await asyncio.to_thread(stalled.read_until_closed)
    stalled.close()
    assert code == 4008, f"no 4008 close after {len(types)} frames ending {types[-3:]}"
    assert "chat.resume_boundary" not in types
    assert 0 < types.count("chat.text") < BIG_EVENTS
    assert "closing a slow chat socket" in server.log()
    healthy = await LiveSocket.open(f"{server.info['ws_url']}{small_path}", server.info["url"])
    await healthy.send({"type": "client.resume", "data": {"last_seq": SMALL_EVENTS - 1}})
    await healthy.until("chat.resume_boundary")
    assert (await healthy.until("chat.resume_boundary"))["data"]["replayed_events"] == 0
    await healthy.close()
