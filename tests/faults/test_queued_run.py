"""A run waiting for a free worker thread is not a dead run.

A run's task keeps its worker thread until the run ends (it waits for its user in the middle),
so with every thread busy the next run waits inside the worker. The worker keeps its chat's
heartbeat (``runtime/runs/queued.py``): the reaper leaves it alone, and it starts as soon as a
thread frees.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services, tasks
from mozaiks_core.runtime.models import ChatSession
from tests.faults.conftest import chat_started_over_a_socket
from tests.runtime.transport.conftest import make_user

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def test_a_run_queued_behind_a_busy_worker_keeps_its_heartbeat_and_starts_when_a_thread_frees(
        asgi_server: Any, celery_worker: Any, scaled: dict[str, str]) -> None:
    celery_worker(env=scaled, concurrency=1)  # one thread: the second chat's run must wait
    server = await database_sync_to_async(asgi_server)(server="uvicorn", env=scaled)
    user = await database_sync_to_async(make_user)("queued-run@example.com")
    started = [await chat_started_over_a_socket(server, user) for _ in range(2)]
    chats, sockets = [chat for chat, _ in started], [socket for _, socket in started]
    await sockets[0].until("chat.input_request", timeout=30)  # the first run holds the only thread

    for _ in range(10):  # 5 s: five heartbeats of 1 s, reaped after three missed ones
        await database_sync_to_async(tasks.reap_stale_runs.run)()
        await asyncio.sleep(0.5)
    waiting = await database_sync_to_async(ChatSession.objects.get)(pk=chats[1].pk)
    assert waiting.status == ChatSession.Status.RUNNING  # claimed and queued, not interrupted

    await database_sync_to_async(services.cancel_chat)(chats[0])
    await sockets[0].until("chat.run_complete", timeout=30)
    await sockets[1].until("chat.input_request", timeout=30)  # the freed thread started the second run
    for chat in chats:
        await database_sync_to_async(services.cancel_chat)(chat)
    for socket in sockets:
        await socket.close()
