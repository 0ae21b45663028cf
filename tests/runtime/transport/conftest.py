"""Fixtures of the transport tests: two test workflows, users, chats and socket helpers."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from mozaiks_core.asgi import application
from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.runtime import services
from mozaiks_core.runtime.bundles import get_registry
from mozaiks_core.runtime.models import ChatEvent, ChatSession

WORKFLOWS = Path(__file__).parent / "workflows"
APP_ID = "mozaiks-demo"
ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")  # a browser's handshake names the host it opened, as the origin check needs


@pytest.fixture(autouse=True)
def transport_workflows(settings: Any) -> Iterator[None]:
    """Serve the HelloUI and Chatter test bundles on the in-process executor."""
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(WORKFLOWS)]
    settings.MOZAIKS_RUN_EXECUTOR = "asyncio"
    settings.MOZAIKS_LLM_PROVIDER = "scripted"
    settings.MOZAIKS_LLM_SCRIPT = ""
    get_registry(refresh=True)
    yield
    get_registry(refresh=True)


@pytest.fixture(autouse=True)
async def stop_runs_left_behind() -> Any:
    """Cancel in-process runs a failed test left waiting, so they never outlive their event loop."""
    yield
    from mozaiks_core.runtime.runs.executors import _asyncio_executor

    tasks = list(_asyncio_executor.tasks.values())
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    # The database thread's connection outlives the test's loop; PostgreSQL cannot drop a test
    # database with it open.
    await sync_to_async(connections.close_all, thread_sensitive=True)()


def make_user(email: str) -> Any:
    """A user with a personal organization."""
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-123456789")
    ensure_personal_organization(user)
    return user


@pytest.fixture
def alice(transactional_db: None) -> Any:
    """The chat owner."""
    return make_user("alice@example.com")


@pytest.fixture
def mallory(transactional_db: None) -> Any:
    """Another user who must never see alice's chats."""
    return make_user("mallory@example.com")


def new_chat(user: Any, workflow: str) -> ChatSession:
    """A fresh chat of ``workflow`` for ``user``."""
    session, _ = services.create_chat(user=user, organization=user.memberships.first().organization,
                                      app_id=APP_ID, workflow=workflow, force_new=True)
    return session


def store_events(session: ChatSession, count: int, content_bytes: int = 100) -> None:
    """Give ``session`` stored ``chat.text`` events seq 0..count-1 of about ``content_bytes`` each,
    as if a run had produced them (random text: per-message deflate cannot shrink them)."""
    now = timezone.now()
    ChatEvent.objects.bulk_create(
        ChatEvent(chat=session, seq=seq, type="chat.text", event_id=uuid.uuid4().hex, created_at=now,
                  payload={"agent": "ChatterAgent", "content": secrets.token_hex(content_bytes // 2)})
        for seq in range(count))
    ChatSession.objects.filter(pk=session.pk).update(last_seq=count - 1)


def socket_path(session: ChatSession, token: str | None = "auto", last_seq: int | str | None = None) -> str:
    """The chat's socket path with an execution token (``auto``), a given token, or none; with
    ``last_seq`` the client states the position it holds."""
    path = services.websocket_path(session)
    if token == "auto":
        token = services.issue_chat_token(session)
    query = [f"access_token={token}"] if token else []
    if last_seq is not None:
        query.append(f"last_seq={last_seq}")
    return f"{path}?{'&'.join(query)}" if query else path


class Client:
    """A WebsocketCommunicator that collects frames and waits for the ones a test needs."""

    def __init__(self, path: str) -> None:
        self.communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, HOST])
        self.frames: list[dict[str, Any]] = []

    async def connect(self) -> bool:
        connected, _ = await self.communicator.connect(timeout=10)
        return connected

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            frame = {"type": "__closed__", "code": output.get("code")}
        else:
            frame = json.loads(output["text"])
        self.frames.append(frame)
        return frame

    async def until(self, frame_type: str, timeout: float = 15, **data: Any) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [f["type"] for f in self.frames]
                raise AssertionError(f"no {frame_type} {data} within {timeout}s; got {seen}")
            frame = await self.next(remaining)
            if frame["type"] == frame_type and all(frame.get("data", {}).get(k) == v for k, v in data.items()):
                return frame
            if frame["type"] == "__closed__":
                raise AssertionError(f"socket closed ({frame['code']}) while waiting for {frame_type}")

    async def close(self) -> None:
        await self.communicator.disconnect()

    def seqs(self) -> list[int]:
        return [frame["seq"] for frame in self.frames if "seq" in frame]


async def http_post(token: str, path: str, body: dict[str, Any]) -> Any:
    """POST JSON with ``Authorization: Bearer <token>`` through Django's test client (in a worker thread)."""
    from channels.db import database_sync_to_async
    from django.test import Client as HttpClient

    def post() -> Any:
        return HttpClient(headers={"Authorization": f"Bearer {token}"}).post(path, body,
                                                                            content_type="application/json")

    return await database_sync_to_async(post)()
