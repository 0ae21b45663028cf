"""Fault (3): Redis (channel layer and Celery broker) restarts in the middle of a chat.

A PRIVATE redis-server on a free port serves this test, so restarting it disturbs nobody else.
Across the restart the run keeps its state, the socket reconnects and resumes, the next turns go
through the restarted broker and layer, and the frames equal the stored events exactly.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import websockets
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent
from tests.runtime.transport.conftest import make_user, new_chat
from tests.runtime.transport.live import LiveSocket
from tests.support.processes import ManagedProcess, start_process
from tests.support.services import free_port, service_missing

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class PrivateRedis:
    """A throw-away redis-server (no persistence) that the test may kill and start again."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder, self.process = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]
        self.process: ManagedProcess | None = start_process(command, {"PATH": "/usr/bin:/bin"},
                                                            self.folder / f"redis-{time.monotonic_ns()}.log")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                if redis.Redis.from_url(self.url).ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start:\n{self.process.log()}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill(signal.SIGKILL)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not Path("/usr/bin/redis-server").exists():
        service_missing("redis-server is not installed (apt-get install redis-server)")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


async def test_a_chat_survives_a_redis_restart_and_resumes_without_losing_anything(
        asgi_server: Any, celery_worker: Any, private_redis: PrivateRedis, settings: Any) -> None:
    env = {"REDIS_URL": private_redis.url, "MOZAIKS_CHANNEL_PREFIX": f"mozaiks-test-{uuid.uuid4().hex[:8]}",
           "MOZAIKS_CELERY_EAGER": "false", "MOZAIKS_RUN_EXECUTOR": "celery"}
    worker = celery_worker(env=env)
    server = await database_sync_to_async(asgi_server)(server="uvicorn", env=env)
    chat = await database_sync_to_async(new_chat)(await database_sync_to_async(make_user)("redis@example.com"),
                                                  "Chatter")
    token = await database_sync_to_async(services.issue_chat_token)(chat)
    url = f"{server.info['ws_url']}{services.websocket_path(chat)}?access_token={token}"
    sockets = [await LiveSocket.open(url, server.info["url"])]
    await sockets[0].until("chat_meta")
    await sockets[0].send({"type": "user.input.submit", "text": "one"})
    await sockets[0].until("chat.input_request", timeout=30)

    private_redis.kill()
    with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
        await sockets[0].until("__never__", timeout=1)  # the server may keep or drop the socket
    await sockets[0].close()
    private_redis.start()

    held = max(sockets[0].seqs())
    socket = await LiveSocket.open(f"{url}&last_seq={held}", server.info["url"])
    sockets.append(socket)
    await socket.until("chat_meta")
    await socket.until("chat.resume_boundary")
    for turn, text in enumerate(("two", "three"), start=2):
        await socket.send({"type": "user.input.submit", "text": text})
        while sum(frame["type"] == "chat.input_request" and "seq" in frame
                  for each in sockets for frame in each.frames) < turn:
            await socket.until("chat.input_request", timeout=60)

    def stored() -> list[int]:
        return list(ChatEvent.objects.filter(chat=chat).order_by("seq").values_list("seq", flat=True))

    received = [seq for each in sockets for seq in each.seqs()]
    assert received == await database_sync_to_async(stored)()
    answers = [frame["data"]["content"] for each in sockets for frame in each.frames
               if frame["type"] == "chat.text" and frame["data"].get("agent") == "ChatterAgent"]
    assert answers == ["First answer.", "Second answer.", "Third answer."]
    assert worker.alive()
    await database_sync_to_async(services.cancel_chat)(chat)
    await socket.close()
