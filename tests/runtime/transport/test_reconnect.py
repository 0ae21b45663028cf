"""A socket that connects to an existing chat shows the chat: its transcript, then what is still open.

The MozaiksAI ChatUI states no position on connect (it sends ``client.resume`` only with a
localStorage index, the highest seq any earlier page saw); our own page states ``?last_seq=``.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from tests.runtime.transport.conftest import Client, new_chat, socket_path, store_events

pytestmark = pytest.mark.django_db(transaction=True)


def stored_seqs(session: ChatSession) -> list[int]:
    return list(ChatEvent.objects.filter(chat=session).order_by("seq").values_list("seq", flat=True))


async def chat_waiting_for_input(user: Any) -> tuple[ChatSession, str, list[int]]:
    """A Chatter chat that answered one message and waits for the next (its socket is gone)."""
    session = await database_sync_to_async(new_chat)(user, "Chatter")
    first = Client(await database_sync_to_async(socket_path)(session))
    assert await first.connect()
    await first.send({"type": "user.input.submit", "text": "Hello"})
    request = await first.until("chat.input_request")
    await first.close()
    return session, request["data"]["request_id"], await database_sync_to_async(stored_seqs)(session)


async def drain(client: Client) -> None:
    while not await client.communicator.receive_nothing(0.2):
        await client.next()


async def test_a_socket_that_states_nothing_gets_the_whole_transcript_in_order_with_the_open_request(
    alice: Any,
) -> None:
    session, request_id, stored = await chat_waiting_for_input(alice)
    tab = Client(await database_sync_to_async(socket_path)(session))
    assert await tab.connect()
    meta = await tab.next()
    assert meta["type"] == "chat_meta"
    assert meta["chat_exists"] is True
    assert meta["data"]["chat_exists"] is True
    assert meta["cache_seed"] == session.cache_seed
    request = await tab.until("chat.input_request")
    assert request["data"]["request_id"] == request_id
    assert tab.seqs() == stored
    assert [frame["data"]["content"] for frame in tab.frames if frame["type"] == "chat.text"] == [
        "Hello", "First answer."]
    # The ChatUI then says what its localStorage holds: nothing is sent twice.
    await tab.send({"type": "client.resume", "chat_id": session.chat_id, "lastClientIndex": stored[-1]})
    boundary = await tab.until("chat.resume_boundary")
    assert boundary["data"]["replayed_events"] == 0
    await drain(tab)
    assert tab.seqs() == stored
    assert [frame["type"] for frame in tab.frames].count("chat.input_request") == 1
    await database_sync_to_async(services.cancel_chat)(session)
    await tab.close()


async def test_a_reload_whose_local_index_is_behind_the_chat_shows_every_event_once(alice: Any) -> None:
    session, _, stored = await chat_waiting_for_input(alice)
    tab = Client(await database_sync_to_async(socket_path)(session))
    assert await tab.connect()
    await tab.until("chat.input_request")
    await tab.send({"type": "client.resume", "lastClientIndex": 1})  # saw seq 1 before the reload
    boundary = await tab.until("chat.resume_boundary")
    assert boundary["data"]["replayed_events"] == 0
    await drain(tab)
    assert tab.seqs() == stored
    await database_sync_to_async(services.cancel_chat)(session)
    await tab.close()


async def test_an_open_ui_tool_reaches_a_socket_that_connects_later(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "HelloUI")
    first = Client(await database_sync_to_async(socket_path)(session))
    assert await first.connect()
    call = await first.until("chat.tool_call")
    await first.close()
    other_device = Client(await database_sync_to_async(socket_path)(session))
    assert await other_device.connect()
    again = await other_device.until("chat.tool_call")
    assert again["data"]["eventId"] == call["data"]["eventId"]
    assert again["seq"] == call["seq"]
    await other_device.send({"type": "ui_tool_response", "eventId": again["data"]["eventId"],
                             "response": {"name": "Ada"}})
    assert (await other_device.until("chat.run_complete"))["data"]["status"] == "completed"
    await other_device.close()


async def test_a_finished_chat_reopened_shows_its_transcript_and_its_end(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "HelloUI")
    first = Client(await database_sync_to_async(socket_path)(session))
    assert await first.connect()
    call = await first.until("chat.tool_call")
    await first.send({"type": "ui_tool_response", "eventId": call["data"]["eventId"], "response": {"name": "Ada"}})
    await first.until("chat.run_complete")
    await first.close()
    reopened = Client(await database_sync_to_async(socket_path)(session))
    assert await reopened.connect()
    await reopened.until("chat.run_complete")
    assert reopened.seqs() == first.seqs()


@pytest.mark.parametrize(("value", "code"), [
    ("abc", "SCHEMA_VALIDATION_FAILED"), ("-5", "SCHEMA_VALIDATION_FAILED"), ("999", "RESUME_BEYOND_END"),
])
async def test_an_unusable_last_seq_on_connect_is_named_and_the_socket_serves_the_whole_chat(
    alice: Any, value: str, code: str,
) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 3)
    client = Client(await database_sync_to_async(socket_path)(session, last_seq=value))
    assert await client.connect()
    assert (await client.next())["type"] == "chat_meta"
    error = await client.until("chat.error")
    assert error["data"]["error_code"] == code
    assert error["data"]["field"] == "last_seq"
    assert value in error["data"]["message"]
    await drain(client)
    assert client.seqs() == [0, 1, 2]
    await client.send({"type": "client.resume", "data": {"last_seq": 2}})
    await client.until("chat.resume_boundary")  # still open and serving
    await client.close()


@pytest.mark.parametrize(("frame", "field", "code"), [
    ({"type": "client.resume", "lastClientIndex": 50}, "lastClientIndex", "RESUME_BEYOND_END"),
    ({"type": "client.resume", "data": {"last_seq": -3}}, "last_seq", "SCHEMA_VALIDATION_FAILED"),
    ({"type": "client.resume", "data": {"last_seq": "two"}}, "last_seq", "SCHEMA_VALIDATION_FAILED"),
    ({"type": "client.resume", "lastClientIndex": "two"}, "lastClientIndex", "SCHEMA_VALIDATION_FAILED"),
])
async def test_an_unusable_resume_position_is_refused_naming_the_field_and_the_socket_stays_open(
    alice: Any, frame: dict[str, Any], field: str, code: str,
) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 3)
    client = Client(await database_sync_to_async(socket_path)(session, last_seq=2))
    assert await client.connect()
    await client.until("chat.resume_boundary")
    await client.send(frame)
    error = await client.until("chat.error")
    assert (error["data"]["error_code"], error["data"]["field"]) == (code, field)
    assert "seq" not in error
    await client.send({"type": "client.resume", "data": {"last_seq": 2}})
    await client.until("chat.resume_boundary")
    await client.close()


@pytest.mark.redis
async def test_a_socket_in_another_process_layer_gets_the_transcript_then_live_events_once(
    alice: Any, redis_channel_layer: str,
) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    first = Client(await database_sync_to_async(socket_path)(session))
    assert await first.connect()
    await first.send({"type": "user.input.submit", "text": "Hello"})
    request = await first.until("chat.input_request")
    second = Client(await database_sync_to_async(socket_path)(session))
    assert await second.connect()
    await second.until("chat.input_request")
    await first.send({"type": "user.input.submit", "text": "More", "input_request_id": request["data"]["request_id"]})
    await second.until("chat.text", content="Second answer.")
    await second.until("chat.input_request")
    await database_sync_to_async(services.cancel_chat)(session)
    await second.until("chat.run_complete")
    await drain(second)
    assert second.seqs() == await database_sync_to_async(stored_seqs)(session)
    await first.close()
    await second.close()
