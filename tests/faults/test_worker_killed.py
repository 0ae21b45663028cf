"""Fault (2): the Celery worker running a chat is SIGKILLed mid-run.

The run must not stay "running" forever: the stale-run reaper (a beat task every 60 s, and every
socket connect) marks it ``interrupted`` after three missed heartbeats and the user's socket gets
a ``chat.error`` ``RUN_INTERRUPTED`` at once; the user then continues the chat on another worker.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services, tasks
from mozaiks_core.runtime.models import ChatSession
from tests.faults.conftest import chat_started_over_a_socket
from tests.runtime.transport.conftest import make_user

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
BOUND_SECONDS = 15  # 3 heartbeats of 1 s, a reaper pass, and publishing, with a wide margin


async def test_a_run_whose_worker_is_killed_is_reported_interrupted_and_continues_on_another_worker(
        asgi_server: Any, celery_worker: Any, scaled: dict[str, str]) -> None:
    doomed = celery_worker(env=scaled)
    server = await database_sync_to_async(asgi_server)(server="uvicorn", env=scaled)
    user = await database_sync_to_async(make_user)("killed-worker@example.com")
    chat, socket = await chat_started_over_a_socket(server, user)
    await socket.until("chat.input_request", timeout=30)  # the run is alive on the worker, waiting for us
    assert "run_chat" in doomed.log()

    doomed.kill(signal.SIGKILL)
    killed_at = time.monotonic()

    async def reaper_like_beat() -> None:
        while True:  # what beat's periodic task does, at a test-sized interval
            await database_sync_to_async(tasks.reap_stale_runs.run)()
            await asyncio.sleep(0.5)

    reaper = asyncio.get_running_loop().create_task(reaper_like_beat())
    try:
        error = await socket.until("chat.error", timeout=BOUND_SECONDS, error_code="RUN_INTERRUPTED")
    finally:
        reaper.cancel()
    noticed = time.monotonic() - killed_at
    assert noticed < BOUND_SECONDS
    assert "seq" not in error
    assert error["data"]["message"]
    session = await database_sync_to_async(ChatSession.objects.get)(pk=chat.pk)
    assert (session.status, session.error_code, session.runner) == ("interrupted", "RUN_INTERRUPTED", "")

    rescuer = celery_worker(env=scaled)
    await socket.send({"type": "user.input.submit", "text": "I'm back"})
    assert (await socket.until("ack.input"))["data"]["status"] == "started"
    reply = await socket.until("chat.text", timeout=30, agent="ChatterAgent")
    assert reply["data"]["content"]
    assert "run_chat" in rescuer.log()
    seqs = socket.seqs()
    assert seqs == sorted(set(seqs)), "no event duplicated or reordered across the worker's death"
    await database_sync_to_async(services.cancel_chat)(session)
    await socket.close()
