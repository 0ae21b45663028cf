"""Fault-test fixtures: the transport tests' workflows, served by real ASGI and Celery processes on Redis."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import new_chat, stop_runs_left_behind, transport_workflows
from tests.runtime.transport.live import LiveSocket

__all__ = ["chat_started_over_a_socket", "scaled", "stop_runs_left_behind", "transport_workflows"]

HEARTBEAT = "1"  # seconds: a dead run is noticed after 3 missed heartbeats


@pytest.fixture
def scaled(redis_channel_layer: str, redis_url: str, settings: Any) -> dict[str, str]:
    """The environment of the scale-out topology: Celery runs, Redis pub/sub layer, one shared prefix.

    This process uses the same layer (``redis_channel_layer``) and heartbeat, so what it publishes
    or reaps reaches the servers' sockets exactly as beat's reaper would.
    """
    settings.MOZAIKS_RUN_HEARTBEAT_SECONDS = float(HEARTBEAT)
    return {"REDIS_URL": redis_url, "MOZAIKS_CHANNEL_PREFIX": redis_channel_layer, "MOZAIKS_CELERY_EAGER": "false",
            "MOZAIKS_RUN_EXECUTOR": "celery", "MOZAIKS_RUN_HEARTBEAT_SECONDS": HEARTBEAT}


async def chat_started_over_a_socket(server: Any, user: Any, workflow: str = "Chatter",
                                     text: str = "Hello") -> tuple[ChatSession, LiveSocket]:
    """A new chat of ``user`` whose socket on ``server`` got ``chat_meta`` and sent ``text`` (starting the run)."""
    chat = await database_sync_to_async(new_chat)(user, workflow)
    token = await database_sync_to_async(services.issue_chat_token)(chat)
    socket = await LiveSocket.open(f"{server.info['ws_url']}{services.websocket_path(chat)}?access_token={token}",
                                   server.info["url"])
    await socket.until("chat_meta")
    await socket.send({"type": "user.input.submit", "text": text})
    return chat, socket
