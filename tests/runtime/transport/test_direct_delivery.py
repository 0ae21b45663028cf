"""A chat socket takes its frames from the channel layer as they arrive, and keeps them in seq order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.protocol.frames import event_frame
from mozaiks_core.runtime.protocol.groups import chat_group
from mozaiks_core.runtime.transport.consumers import ChatConsumer
from tests.runtime.transport.conftest import Client, new_chat, socket_path, store_events

pytestmark = pytest.mark.django_db(transaction=True)


def live(seq: int) -> list[Any]:
    return [seq, event_frame("chat.text", {"agent": "ChatterAgent", "content": f"live {seq}"}, seq, timezone.now())]


async def connected(session: ChatSession, last_seq: int) -> Client:
    """A socket that states it holds ``last_seq``: after its (empty) replay and boundary."""
    client = Client(await database_sync_to_async(socket_path)(session, last_seq=last_seq))
    assert await client.connect()
    assert (await client.next())["type"] == "chat_meta"
    await client.until("chat.resume_boundary")
    return client


def store_more(session: ChatSession, seqs: range) -> None:
    """Commit events ``seqs`` as a run in another process would, without publishing them."""
    from mozaiks_core.runtime.models import ChatEvent

    ChatEvent.objects.bulk_create(ChatEvent(chat=session, seq=seq, type="chat.text", event_id=f"more-{seq}",
                                            created_at=timezone.now(), payload={"content": f"stored {seq}"})
                                  for seq in seqs)
    ChatSession.objects.filter(pk=session.pk).update(last_seq=seqs[-1])


def count_queued_handling(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the seqs handled by the queued path (``chat_frames``, run by Channels' dispatch loop)."""
    handled: list[int] = []
    original = ChatConsumer.chat_frames

    async def chat_frames(self: ChatConsumer, message: dict[str, Any]) -> None:
        handled.extend(seq for seq, _ in message["frames"] if seq is not None)
        await original(self, message)

    monkeypatch.setattr(ChatConsumer, "chat_frames", chat_frames)
    return handled


async def test_frames_that_follow_what_the_socket_sent_skip_the_queue(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = count_queued_handling(monkeypatch)
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 5)
    client = await connected(session, 4)
    group = chat_group(session.chat_id)
    await get_channel_layer().group_send(group, {"type": "chat.frames", "frames": [live(5), live(6)]})
    await get_channel_layer().group_send(group, {"type": "chat.frames", "frames": [live(7)]})
    for _ in range(3):
        await client.next()
    assert client.seqs() == [5, 6, 7]
    assert queued == []
    await client.close()


async def test_a_gap_is_declined_and_filled_from_the_database(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    queued = count_queued_handling(monkeypatch)
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 6)
    client = await connected(session, 5)  # has seen up to seq 5
    await database_sync_to_async(store_more)(session, range(6, 9))
    await get_channel_layer().group_send(chat_group(session.chat_id), {"type": "chat.frames", "frames": [live(9)]})
    for _ in range(4):
        await client.next()
    assert client.seqs() == [6, 7, 8, 9]
    assert queued == [9]
    await client.close()


async def test_a_frame_published_while_the_connect_replay_runs_is_sent_once_after_it(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(session, 10)
    original = ChatConsumer._send_events_from_db

    async def replay_with_a_live_frame_arriving(self: ChatConsumer, after: int, up_to: int | None = None) -> int:
        # seq 4 follows the resume position (3): taken at once, it would be sent twice.
        await get_channel_layer().group_send(chat_group(session.chat_id), {"type": "chat.frames", "frames": [live(4)]})
        return await original(self, after, up_to)

    monkeypatch.setattr(ChatConsumer, "_send_events_from_db", replay_with_a_live_frame_arriving)
    client = await connected(session, 3)
    await get_channel_layer().group_send(chat_group(session.chat_id), {"type": "chat.frames", "frames": [live(10)]})
    await client.until("chat.text")
    await asyncio.sleep(0.1)
    while not await client.communicator.receive_nothing(0.05):
        await client.next()
    assert client.seqs() == [4, 5, 6, 7, 8, 9, 10]
    await client.close()


async def test_nothing_overtakes_a_declined_message_still_waiting_in_the_queue() -> None:
    consumer = ChatConsumer()
    consumer.outbox, consumer.outbox_limit, consumer.closing, consumer.delivered_seq = asyncio.Queue(), 100, False, 5

    def sent() -> list[str]:
        return list(consumer.outbox._queue)  # type: ignore[attr-defined]

    consumer.dispatching = True  # a handler is under way: a delta is declined
    assert consumer._receive_directly({"type": "chat.frames", "frames": [[None, "delta"]]}) is False
    consumer.dispatching = False
    # The next event follows seq 5 but must wait behind the delta, which the queue still holds.
    assert consumer._receive_directly({"type": "chat.frames", "frames": [[6, "e6"]]}) is False
    assert sent() == []
    await consumer.dispatch({"type": "chat.frames", "frames": [[None, "delta"]]})
    await consumer.dispatch({"type": "chat.frames", "frames": [[6, "e6"]]})
    assert consumer.declined == 0
    assert consumer._receive_directly({"type": "chat.frames", "frames": [[6, "dup"], [7, "e7"], [None, "d"]]}) is True
    assert sent() == ["delta", "e6", "e7", "d"]
    assert consumer.delivered_seq == 7
    assert consumer._receive_directly({"type": "chat.other"}) is False  # only chat.frames is taken
