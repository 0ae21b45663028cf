"""Fuzzing the chat socket's inbound frames against the real consumer (WebsocketCommunicator).

Every example opens a socket on a user-driven chat, sends a few generated frames (random JSON,
frames of the right type with wrong fields, binary, oversized, nested thousands of levels deep),
then ``client.resume``. The socket
must answer each refused frame with a structured ``chat.error`` (no ``seq``), stay open, and still
answer the resume with ``chat.resume_boundary``; the consumer must never crash.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mozaiks_core.conf import mozaiks_settings
from mozaiks_core.runtime import services
from mozaiks_core.runtime.protocol.frames import INBOUND_TYPES, FrameError, parse_inbound
from tests.fuzz.strategies import json_trees, nested_json
from tests.runtime.transport.conftest import Client, new_chat, socket_path

pytestmark = pytest.mark.django_db(transaction=True)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
MAX_BYTES = 65536

typed_frames = st.builds(
    lambda frame_type, data, top, wrap: json.dumps({"type": frame_type, **top, "data": data} if wrap
                                                   else {"type": frame_type, **top}),
    st.one_of(st.sampled_from(INBOUND_TYPES), json_trees(3)),
    json_trees(12), st.dictionaries(st.sampled_from(["text", "eventId", "response", "last_seq", "lastClientIndex",
                                                     "input_request_id", "event_id"]), json_trees(4), max_size=3),
    st.booleans(),
)
huge_frames = st.integers(min_value=1, max_value=3).map(
    lambda factor: json.dumps({"type": "user.input.submit", "data": {"text": "x" * (MAX_BYTES * factor)}}))
nested_frames = st.one_of(nested_json(), nested_json(400).map(
    lambda value: '{"type": "ui_tool_response", "eventId": "e1", "response": ' + value + "}"))
text_frames = st.one_of(json_trees().map(json.dumps), typed_frames, st.text(max_size=200), huge_frames, nested_frames)
frames = st.one_of(text_frames.map(lambda text: ("text", text)), st.binary(max_size=300).map(lambda b: ("bytes", b)))


def _refused(kind: str, payload: Any) -> bool:
    """Whether the frame parser itself refuses the frame (then a chat.error is owed)."""
    try:
        parse_inbound(payload if kind == "text" else None, payload if kind == "bytes" else None, MAX_BYTES)
    except FrameError:
        return True
    return False


async def _exchange(path: str, sent: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    client = Client(path)
    assert await client.connect()
    assert (await client.next())["type"] == "chat_meta"
    for kind, payload in sent:
        await client.communicator.send_input({"type": "websocket.receive", kind: payload})  # "" and b"" too
    await client.send({"type": "client.resume", "data": {"last_seq": -1}})
    await client.until("chat.resume_boundary", timeout=20)
    await client.close()
    from mozaiks_core.runtime.runs.executors import _asyncio_executor

    runs = list(_asyncio_executor.tasks.values())  # a valid user.input.submit may have started one
    for task in runs:
        task.cancel()
    if runs:
        await asyncio.wait(runs, timeout=5)
    return client.frames


@FUZZ
@given(sent=st.lists(frames, min_size=1, max_size=6))
def test_any_inbound_frame_gets_a_structured_answer_and_the_socket_stays_open(alice: Any,
                                                                               sent: list[tuple[str, Any]]) -> None:
    assert mozaiks_settings().ws_max_frame_bytes == MAX_BYTES
    chat = new_chat(alice, "Chatter")
    received = async_to_sync(_exchange)(socket_path(chat), sent)
    assert all(frame["type"] != "__closed__" for frame in received), received
    errors = [frame for frame in received if frame["type"] == "chat.error" and "seq" not in frame]
    for error in errors:
        code, message = error["data"]["error_code"], error["data"]["message"]
        assert isinstance(code, str), error
        assert isinstance(message, str), error
        assert all((code, message)), error
    refused = sum(_refused(kind, payload) for kind, payload in sent)
    assert len(errors) >= refused, (sent, received)
    services.cancel_chat(chat)


async def test_a_flood_of_frames_is_rate_limited_with_a_structured_error_and_the_socket_stays_open(
        alice: Any) -> None:
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = Client(await database_sync_to_async(socket_path)(chat))
    assert await client.connect()
    await client.next()
    for _ in range(100):
        await client.send('{"type": "pong"}')
    limited = await client.until("chat.error", error_code="RATE_LIMITED")
    assert "seq" not in limited
    await asyncio.sleep(1.5)  # the bucket refills at 20 frames per second
    await client.send({"type": "client.resume", "data": {"last_seq": -1}})
    await client.until("chat.resume_boundary")
    await client.close()
