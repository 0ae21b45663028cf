"""The event writer publishes a committed batch itself on the in-process layer, through its publisher task on Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from mozaiks_core.runtime.models import ChatEvent
from mozaiks_core.runtime.protocol.groups import chat_group
from mozaiks_core.runtime.protocol.layers import attach_receiver
from mozaiks_core.runtime.runs.writer import EventRow, EventWriter, WriteEntry
from tests.runtime.transport.conftest import new_chat

pytestmark = pytest.mark.django_db(transaction=True)


def entry(session: Any, seq: int) -> WriteEntry:
    row = EventRow(chat_pk=session.pk, seq=seq, type="chat.text", payload='{"content": "hi"}', event_id=f"e{seq}",
                   causation_id="", run_id="r", created_at=timezone.now())
    return WriteEntry(chat_pk=session.pk, chat_id=session.chat_id, event=row, frame=f"frame {seq}",
                      done=asyncio.get_running_loop().create_future())


async def test_on_the_in_process_layer_the_writer_publishes_each_batch_as_it_commits_it(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(chat_group(session.chat_id), channel)
    got: list[Any] = []
    attach_receiver(layer, channel, lambda message: got.append(message["frames"]) or True)
    writer = EventWriter()
    assert writer.publishes_in_place

    def no_hand_off(item: Any) -> None:
        raise AssertionError("the batch was handed to the publisher task")

    writer.committed.put_nowait = no_hand_off  # type: ignore[method-assign]
    first, second = entry(session, 0), entry(session, 1)
    writer.submit(first)
    writer.submit(second)
    await asyncio.wait_for(asyncio.gather(first.done, second.done), 10)
    assert got == [[[0, "frame 0"], [1, "frame 1"]]]
    assert await database_sync_to_async(ChatEvent.objects.filter(chat=session).count)() == 2
    writer.task.cancel()
    writer.publisher.cancel()


@pytest.mark.redis
async def test_on_redis_a_committed_batch_goes_to_the_publisher_task(alice: Any, redis_channel_layer: str) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(chat_group(session.chat_id), channel)
    writer = EventWriter()
    assert not writer.publishes_in_place  # publishing one batch overlaps the next one's commit
    item = entry(session, 0)
    writer.submit(item)
    await asyncio.wait_for(item.done, 10)
    assert (await asyncio.wait_for(layer.receive(channel), 5))["frames"] == [[0, "frame 0"]]
    writer.task.cancel()
    writer.publisher.cancel()
    await layer.flush()
