"""Runs over the chat socket (WebsocketCommunicator): UI tools, user input, resume, cancel, slow clients."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession, UsageRecord
from mozaiks_core.runtime.transport.consumers import ChatConsumer
from tests.runtime.transport.conftest import Client, http_post, new_chat, socket_path, store_events

pytestmark = pytest.mark.django_db(transaction=True)


async def open_chat(user: Any, workflow: str) -> tuple[ChatSession, Client]:
    session = await database_sync_to_async(new_chat)(user, workflow)
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    meta = await client.next()
    assert meta["type"] == "chat_meta"
    assert "seq" not in meta
    return session, client


def stored_seqs(session: ChatSession) -> list[int]:
    return list(ChatEvent.objects.filter(chat=session).order_by("seq").values_list("seq", flat=True))


@pytest.mark.dbmatrix
async def test_a_ui_tool_blocks_the_run_until_the_socket_answers_and_a_second_answer_is_refused(alice: Any) -> None:
    session, client = await open_chat(alice, "HelloUI")
    call = await client.until("chat.tool_call")
    assert call["data"]["awaiting_response"] is True
    assert call["data"]["component_type"] == "NameForm"
    event_id = call["data"]["eventId"]
    assert await client.communicator.receive_nothing(0.5)  # blocked: nothing happens until the answer
    await client.send({"type": "ui_tool_response", "data": {"eventId": event_id, "response": {"name": "Ada"}}})
    assert (await client.until("ack.ui_tool_response"))["data"]["eventId"] == event_id
    tool_response = await client.until("chat.tool_response")
    assert "Ada" in tool_response["data"]["content"]
    done = await client.until("chat.run_complete")
    assert done["data"]["status"] == "completed"
    await client.send({"type": "ui_tool_response", "eventId": event_id, "response": {"name": "Eve"}})
    refused = await client.until("chat.error")
    assert refused["data"]["error_code"] == "ALREADY_ANSWERED"
    assert "seq" not in refused
    seqs = client.seqs()
    assert seqs == list(range(len(seqs)))
    assert await database_sync_to_async(stored_seqs)(session) == seqs
    usage = await database_sync_to_async(lambda: list(UsageRecord.objects.filter(chat=session)))()
    assert [record.total_tokens for record in usage]
    assert all(record.organization_id for record in usage)
    await client.close()


async def test_a_ui_tool_answered_over_http_unblocks_the_run_once(alice: Any) -> None:
    session, client = await open_chat(alice, "HelloUI")
    event_id = (await client.until("chat.tool_call"))["data"]["eventId"]
    token = await database_sync_to_async(services.issue_chat_token)(session)
    answer = await http_post(token, "/api/ui-tool/submit", {"event_id": event_id, "response_data": {"name": "Grace"}})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "success"
    assert "Grace" in (await client.until("chat.tool_response"))["data"]["content"]
    await client.until("chat.run_complete")
    again = await http_post(token, "/api/ui-tool/submit", {"event_id": event_id, "response_data": {"name": "Eve"}})
    assert again.status_code == 409
    assert again.json()["error"] == "ALREADY_ANSWERED"
    unknown = await http_post(token, "/api/ui-tool/submit", {"event_id": "nope", "response_data": {}})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "UNKNOWN_REQUEST"
    await client.close()


async def test_a_user_driven_chat_waits_for_the_first_message_then_asks_for_input(alice: Any) -> None:
    session, client = await open_chat(alice, "Chatter")
    assert await client.communicator.receive_nothing(0.5)
    assert (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).status == "created"
    await client.send({"type": "user.input.submit", "data": {"text": "Hi there"}})
    assert (await client.until("ack.input"))["data"]["status"] == "started"
    user_text = await client.until("chat.text", agent="user")
    assert user_text["data"]["content"] == "Hi there"
    assert (await client.until("chat.text", agent="ChatterAgent"))["data"]["content"] == "First answer."
    request = await client.until("chat.input_request")
    assert (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).status == "waiting_input"
    await client.send({"type": "user.input.submit", "text": "More",
                       "input_request_id": request["data"]["request_id"]})
    assert (await client.until("ack.input"))["data"]["status"] == "answered"
    assert (await client.until("chat.text", agent="ChatterAgent"))["data"]["content"] == "Second answer."
    await client.until("chat.input_request")
    await client.send({"type": "user.input.submit", "text": "again", "input_request_id": request["data"]["request_id"]})
    assert (await client.until("chat.error"))["data"]["error_code"] == "ALREADY_ANSWERED"
    await database_sync_to_async(services.cancel_chat)(session)
    done = await client.until("chat.run_complete")
    assert done["data"]["status"] == "cancelled"
    await client.close()


@pytest.mark.dbmatrix
async def test_resume_after_a_disconnect_replays_exactly_the_missed_events_and_re_sends_the_open_request(
    alice: Any,
) -> None:
    session, first = await open_chat(alice, "Chatter")
    await first.send({"type": "user.input.submit", "text": "Hello"})
    request = await first.until("chat.input_request")
    last_seen = first.seqs()[-1]
    await first.close()
    # The run keeps going without a socket: answer over HTTP, it produces more events.
    token = await database_sync_to_async(services.issue_chat_token)(session)
    answer = await http_post(token, "/api/user-input/submit", {
        "chat_id": session.chat_id, "text": "Still there?", "input_request_id": request["data"]["request_id"]})
    assert answer.status_code == 200, answer.content
    for _ in range(100):
        pending = await database_sync_to_async(services.open_requests)(session)
        if pending:
            break
        await asyncio.sleep(0.05)
    assert pending, "the run did not ask again"
    stored = await database_sync_to_async(stored_seqs)(session)

    second = Client(await database_sync_to_async(socket_path)(session, last_seq=last_seen))
    assert await second.connect()
    assert (await second.next())["type"] == "chat_meta"
    boundary = await second.until("chat.resume_boundary")
    replayed = second.seqs()
    assert replayed == [seq for seq in stored if seq > last_seen]
    assert len(set(first.seqs()) | set(replayed)) == len(first.seqs()) + len(replayed)  # no duplicates
    assert sorted(first.seqs() + replayed) == stored  # nothing lost
    assert boundary["data"]["replayed_events"] == boundary["data"]["replayed_count"] == len(replayed)
    assert "seq" not in boundary

    # A client that reloads after seeing the latest request gets it re-sent, without a seq.
    third = Client(await database_sync_to_async(socket_path)(session, last_seq=stored[-1]))
    assert await third.connect()
    await third.next()
    await third.until("chat.resume_boundary", replayed_events=0)
    resent = await third.until("chat.input_request")
    assert resent["data"]["resent"] is True
    assert "seq" not in resent
    assert resent["data"]["request_id"] == pending[0].request_id
    await database_sync_to_async(services.cancel_chat)(session)
    await second.until("chat.run_complete")
    await second.close()
    await third.close()


async def test_an_interrupted_run_is_resumed_by_the_user_with_its_history(alice: Any) -> None:
    session, client = await open_chat(alice, "Chatter")
    await client.send({"type": "user.input.submit", "text": "Hello"})
    await client.until("chat.input_request")
    await client.close()
    # Simulate a process restart: the run stops (its task vanishes) and its heartbeat goes stale.
    from mozaiks_core.runtime.runs.executors import get_executor

    get_executor().tasks[session.chat_id].cancel()
    await asyncio.sleep(0.2)
    await database_sync_to_async(ChatSession.objects.filter(pk=session.pk).update)(
        status="waiting_input", heartbeat_at="2000-01-01T00:00:00Z")
    before = await database_sync_to_async(stored_seqs)(session)

    again = Client(await database_sync_to_async(socket_path)(session, last_seq=before[-1]))
    assert await again.connect()
    meta = await again.next()
    assert meta["data"]["status"] == "interrupted"
    assert meta["data"]["resumable"] is True
    await again.send({"type": "user.input.submit", "text": "I'm back"})
    assert (await again.until("ack.input"))["data"]["status"] == "started"
    assert (await again.until("chat.text", agent="ChatterAgent"))["data"]["content"] == "Second answer."
    assert again.seqs()[0] == before[-1] + 1  # numbering continues without gaps
    await database_sync_to_async(services.cancel_chat)(session)
    await again.until("chat.run_complete")
    await again.close()


async def test_a_client_that_stops_reading_is_closed_without_slowing_the_others(
    alice: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MOZAIKS_WS_OUTBOX_FRAMES = 8
    stuck: set[int] = set()
    original_send = ChatConsumer.send_frame

    async def send_frame(self: ChatConsumer, text: str) -> None:
        if id(self) in stuck:
            await asyncio.Event().wait()  # this client never reads
        await original_send(self, text)

    monkeypatch.setattr(ChatConsumer, "send_frame", send_frame)
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    path = await database_sync_to_async(socket_path)(session)
    slow, healthy = Client(path), Client(path)
    monkeypatch.setattr(ChatConsumer, "connect", _remember_first(ChatConsumer.connect, stuck))
    assert await slow.connect()
    assert await healthy.connect()
    await healthy.next()
    await healthy.send({"type": "user.input.submit", "text": "go"})
    for answer in ("more", "and more"):
        request = await healthy.until("chat.input_request")
        await healthy.send({"type": "user.input.submit", "text": answer,
                            "input_request_id": request["data"]["request_id"]})
    await healthy.until("chat.input_request")
    closed = await slow.communicator.receive_output(5)
    assert closed == {"type": "websocket.close", "code": 4008, "reason": "slow client: reconnect and resume"}
    await database_sync_to_async(services.cancel_chat)(session)
    await healthy.until("chat.run_complete")
    await healthy.close()


async def test_a_client_that_stops_reading_mid_replay_is_closed_within_the_stall_timeout(
    alice: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MOZAIKS_WS_OUTBOX_FRAMES = 8
    settings.MOZAIKS_WS_STALL_SECONDS = 0.5
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 40)
    original_send = ChatConsumer.send_frame

    async def stalled_after_meta(self: ChatConsumer, text: str) -> None:
        if '"chat_meta"' not in text:
            await asyncio.Event().wait()  # after chat_meta the client reads nothing
        await original_send(self, text)

    monkeypatch.setattr(ChatConsumer, "send_frame", stalled_after_meta)
    loop = asyncio.get_running_loop()
    client = Client(await database_sync_to_async(socket_path)(session))
    asked = loop.time()
    assert await client.connect()  # the connect replays all 40 events
    assert (await client.next())["type"] == "chat_meta"
    closed = await client.communicator.receive_output(5)
    assert closed == {"type": "websocket.close", "code": 4008, "reason": "slow client: reconnect and resume"}
    assert loop.time() - asked < 0.5 + 1


async def test_a_replay_longer_than_the_stall_timeout_completes_for_a_client_that_keeps_reading(
    alice: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MOZAIKS_WS_OUTBOX_FRAMES = 8
    settings.MOZAIKS_WS_STALL_SECONDS = 0.3
    original_send = ChatConsumer.send_frame

    async def slow_send(self: ChatConsumer, text: str) -> None:
        await asyncio.sleep(0.02)  # every frame takes a while; the replay as a whole takes seconds
        await original_send(self, text)

    monkeypatch.setattr(ChatConsumer, "send_frame", slow_send)
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 60)
    client = Client(await database_sync_to_async(socket_path)(session, last_seq=-1))
    assert await client.connect()
    await client.next()
    boundary = await client.until("chat.resume_boundary")
    assert boundary["data"]["replayed_count"] == 60
    assert client.seqs() == list(range(60))
    await client.close()


def _remember_first(connect: Any, stuck: set[int]) -> Any:
    async def remembering(self: ChatConsumer) -> None:
        if not stuck:
            stuck.add(id(self))
        await connect(self)

    return remembering


@pytest.mark.dbmatrix
async def test_cancelling_a_chat_no_run_holds_ends_it_for_its_sockets_with_a_stored_closing_event(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")  # UserDriven: stays created
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    await client.until("chat_meta")
    assert await database_sync_to_async(services.cancel_chat)(session)
    done = await client.until("chat.run_complete")
    assert done["data"]["status"] == "cancelled"
    assert done["seq"] == 0
    assert await database_sync_to_async(stored_seqs)(session) == [0]
    assert not await database_sync_to_async(services.cancel_chat)(session)  # already over
    await client.close()

    # An interrupted chat (its runner died) gets the next seq after its history.
    other = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(other, 3)
    await database_sync_to_async(ChatSession.objects.filter(pk=other.pk).update)(status="interrupted")
    assert await database_sync_to_async(services.cancel_chat)(other)
    stored = await database_sync_to_async(lambda: list(ChatEvent.objects.filter(chat=other).values_list(
        "seq", "type")))()
    assert stored[-1] == (3, "chat.run_complete")
    final = await database_sync_to_async(ChatSession.objects.get)(pk=other.pk)
    assert (final.status, final.last_seq) == ("cancelled", 3)


async def test_a_resume_replays_every_missed_event_however_many_pages_they_fill(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mozaiks_core.runtime.transport import consumers

    monkeypatch.setattr(consumers, "REPLAY_PAGE", 10)  # 25 events: two full pages and a partial one
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 25)
    client = Client(await database_sync_to_async(socket_path)(session, last_seq=3))
    assert await client.connect()
    assert (await client.next())["type"] == "chat_meta"
    boundary = await client.until("chat.resume_boundary")
    assert client.seqs() == list(range(4, 25))
    assert boundary["data"]["replayed_count"] == 21
    assert boundary["data"]["last_seq"] == 24
    await client.close()
