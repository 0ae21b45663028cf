"""The chat protocol against real servers: uvicorn + the websockets client, and Celery on Redis."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from tests.runtime.transport.conftest import APP_ID, make_user
from tests.runtime.transport.live import LiveSocket, post_json, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def stored(chat_id: str) -> tuple[str, list[int]]:
    session = ChatSession.objects.get(chat_id=chat_id)
    return session.status, list(ChatEvent.objects.filter(chat=session).order_by("seq").values_list("seq", flat=True))


async def test_the_demo_workflow_runs_to_completion_over_a_real_websocket(asgi_server: Any) -> None:
    server = asgi_server(server="uvicorn")
    user = await database_sync_to_async(make_user)("demo-live@example.com")
    cookie = await database_sync_to_async(session_cookie)(user)
    status, started = await database_sync_to_async(post_json)(
        f"{server.info['url']}/api/chats/{APP_ID}/ProductLaunch/start", {"client_request_id": "tab-1"}, session=cookie)
    assert status == 200, started
    assert set(started) >= {"success", "chat_id", "workflow_name", "app_id", "user_id", "websocket_url", "reused",
                            "cache_seed"}
    assert "?access_token=" in started["websocket_url"]
    assert started["reused"] is False

    socket = await LiveSocket.open(started["websocket_url"], server.info["url"])
    assert (await socket.until("chat_meta"))["data"]["chat_id"] == started["chat_id"]
    form = await socket.until("chat.tool_call", component_type="LaunchBriefForm")
    await socket.send({"type": "ui_tool_response", "eventId": form["data"]["eventId"], "response": {
        "product_name": "Mozaiks", "audience": "SaaS builders", "launch_date": "2027-01-15", "budget": 12000}})
    question = await socket.until("chat.input_request")
    request_id = question["data"]["request_id"]
    await socket.send({"type": "user.input.submit", "data": {"text": "Looks good, finalize it.",
                                                             "input_request_id": request_id}})
    done = await socket.until("chat.run_complete", timeout=30)
    assert done["data"]["status"] == "completed"
    assert any(frame["type"] == "chat.usage_delta" for frame in socket.frames)
    await socket.close()

    final_status, seqs = await database_sync_to_async(stored)(started["chat_id"])
    assert final_status == "completed"
    assert socket.seqs() == seqs == list(range(len(seqs)))

    status, again = await database_sync_to_async(post_json)(
        f"{server.info['url']}/api/chats/{APP_ID}/ProductLaunch/start", {"client_request_id": "tab-1"}, session=cookie)
    assert (status, again["reused"], again["chat_id"]) == (200, True, started["chat_id"])


async def test_a_real_socket_refuses_strangers_and_survives_hostile_frames(asgi_server: Any) -> None:
    server = asgi_server(server="uvicorn")
    owner = await database_sync_to_async(make_user)("owner-live@example.com")
    stranger = await database_sync_to_async(make_user)("stranger-live@example.com")
    session, _ = await database_sync_to_async(services.create_chat)(
        user=owner, organization=await database_sync_to_async(lambda: owner.memberships.first().organization)(),
        app_id=APP_ID, workflow="Chatter")
    path = services.websocket_path(session)
    base = server.info["ws_url"]

    # The stranger's own valid token, used on the owner's chat path: 1008.
    other, _ = await database_sync_to_async(services.create_chat)(
        user=stranger, organization=await database_sync_to_async(lambda: stranger.memberships.first().organization)(),
        app_id=APP_ID, workflow="Chatter")
    stranger_token = await database_sync_to_async(services.issue_chat_token)(other)
    intruder = await LiveSocket.open(f"{base}{path}?access_token={stranger_token}", server.info["url"])
    assert await intruder.closed_code() == 1008
    assert intruder.frames[0]["data"]["error_code"] == "CHAT_ACCESS_DENIED"

    forged = await LiveSocket.open(f"{base}{path}?access_token=eyJhbGciOiJIUzI1NiJ9.e30.forged", server.info["url"])
    assert await forged.closed_code() == 1008
    assert forged.frames[0]["data"]["error_code"] == "TOKEN_INVALID"

    token = await database_sync_to_async(services.issue_chat_token)(session)
    socket = await LiveSocket.open(f"{base}{path}?access_token={token}", server.info["url"])
    await socket.until("chat_meta")
    hostile: list[Any] = [b"\x00\x01binary", "{not json", "[1, 2]", {"type": "drop.tables"},
                          {"type": "user.input.submit", "data": {"text": 42}},
                          {"type": "client.resume", "last_seq": "yesterday"},
                          {"type": "ui_tool_response", "eventId": uuid.uuid4().hex, "response": {}},
                          "x" * 70_000]
    codes = []
    for frame in hostile:
        await socket.send(frame)
        codes.append((await socket.until("chat.error"))["data"]["error_code"])
    assert codes == ["SCHEMA_VALIDATION_FAILED"] * 6 + ["UNKNOWN_REQUEST", "FRAME_TOO_LARGE"]
    await socket.send({"type": "client.resume", "last_seq": -1})
    assert (await socket.until("chat.resume_boundary"))["data"]["replayed_count"] == 0  # still open and serving
    await socket.close()


@pytest.mark.redis
async def test_a_celery_worker_runs_the_chat_while_another_process_serves_the_socket(
    asgi_server: Any, celery_worker: Any
) -> None:
    prefix = f"mozaiks-test-{uuid.uuid4().hex[:8]}"
    worker = celery_worker(env={"MOZAIKS_CHANNEL_PREFIX": prefix})
    env = {"REDIS_URL": worker.info["redis_url"], "MOZAIKS_CHANNEL_PREFIX": prefix, "MOZAIKS_CELERY_EAGER": "false",
           "MOZAIKS_RUN_EXECUTOR": "celery"}
    server = asgi_server(server="uvicorn", env=env)
    user = await database_sync_to_async(make_user)("celery-live@example.com")
    session, _ = await database_sync_to_async(services.create_chat)(
        user=user, organization=await database_sync_to_async(lambda: user.memberships.first().organization)(),
        app_id=APP_ID, workflow="HelloUI")
    token = await database_sync_to_async(services.issue_chat_token)(session)
    socket = await LiveSocket.open(f"{server.info['ws_url']}{services.websocket_path(session)}?access_token={token}",
                                   server.info["url"])
    await socket.until("chat_meta")
    call = await socket.until("chat.tool_call", timeout=30)
    await socket.send({"type": "ui_tool_response", "eventId": call["data"]["eventId"], "response": {"name": "Lin"}})
    assert "Lin" in (await socket.until("chat.tool_response"))["data"]["content"]
    assert (await socket.until("chat.run_complete"))["data"]["status"] == "completed"
    await socket.close()
    status, seqs = await database_sync_to_async(stored)(session.chat_id)
    assert status == "completed"
    assert socket.seqs() == seqs
    assert "run_chat" in worker.log()  # the worker, not the server, ran it
