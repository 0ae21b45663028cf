"""``attach_receiver``: a consumer takes its channel's messages as they arrive; what it declines is queued."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer

from mozaiks_core.runtime.protocol.layers import LocalChannelLayer, attach_receiver, detach_receiver


class Receiver:
    """Records what it is given; takes it or declines it as told."""

    def __init__(self, takes: bool = True) -> None:
        self.takes = takes
        self.got: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def __call__(self, message: dict[str, Any]) -> bool:
        self.got.append(message)
        self.arrived.set()
        return self.takes


async def test_on_the_local_layer_a_taken_message_is_never_queued_and_is_a_private_copy() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("chat.one", channel)
    receiver = Receiver()
    assert attach_receiver(layer, channel, receiver)
    message = {"type": "chat.frames", "frames": [[1, "a"]]}
    await layer.group_send("chat.one", message)
    await layer.send(channel, {"type": "chat.frames", "frames": [[2, "b"]]})
    assert [got["frames"] for got in receiver.got] == [[[1, "a"]], [[2, "b"]]]
    receiver.got[0]["frames"].append([9, "mutated"])
    assert message["frames"] == [[1, "a"]]
    assert layer.channels[channel].empty()


async def test_on_the_local_layer_a_declined_message_waits_for_receive_and_detaching_restores_the_queue() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    receiver = Receiver(takes=False)
    attach_receiver(layer, channel, receiver)
    await layer.send(channel, {"type": "x", "n": 1})
    assert len(receiver.got) == 1
    assert (await layer.receive(channel))["n"] == 1
    detach_receiver(layer, channel)
    await layer.send(channel, {"type": "x", "n": 2})
    assert len(receiver.got) == 1
    assert (await layer.receive(channel))["n"] == 2


async def test_on_the_local_layer_a_full_channel_refuses_before_asking_the_receiver() -> None:
    layer = LocalChannelLayer(capacity=1)
    channel = await layer.new_channel()
    receiver = Receiver(takes=False)
    attach_receiver(layer, channel, receiver)
    await layer.send(channel, {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "x"})
    assert len(receiver.got) == 1  # the receiver never declined a message that was then dropped


async def test_flush_forgets_the_receivers() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    attach_receiver(layer, channel, Receiver())
    await layer.flush()
    await layer.send(channel, {"type": "x"})
    assert (await layer.receive(channel))["type"] == "x"


async def test_another_layer_is_not_attached() -> None:
    class OtherLayer(BaseChannelLayer):
        pass

    assert attach_receiver(OtherLayer(), "specific.abc", Receiver()) is False


@pytest.mark.redis
async def test_on_the_redis_pubsub_layer_messages_reach_the_receiver_as_they_come_off_redis(
    redis_channel_layer: str,
) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("chat.one", channel)
    # Channels' dispatch loop is already waiting in receive() when a consumer attaches its receiver.
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    receiver = Receiver()
    assert attach_receiver(layer, channel, receiver)
    await layer.group_send("chat.one", {"type": "chat.frames", "frames": [[1, "a"]]})
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    assert receiver.got == [{"type": "chat.frames", "frames": [[1, "a"]]}]
    assert not waiting.done()

    receiver.takes = False  # declined: the receive() that was waiting before the receiver gets it
    await layer.group_send("chat.one", {"type": "chat.frames", "frames": [[2, "b"]]})
    assert (await asyncio.wait_for(waiting, 5))["frames"] == [[2, "b"]]

    detach_receiver(layer, channel)
    await layer.send(channel, {"type": "chat.frames", "frames": [[3, "c"]]})
    assert (await asyncio.wait_for(layer.receive(channel), 5))["frames"] == [[3, "c"]]
    assert len(receiver.got) == 2
    await layer.flush()


async def test_on_the_local_layer_a_sender_on_another_loop_queues_the_message() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    receiver = Receiver()
    attach_receiver(layer, channel, receiver)
    # async_to_sync from a thread without a loop sends from a loop of its own, on another thread.
    await asyncio.to_thread(asyncio.run, layer.send(channel, {"type": "x", "n": 1}))
    assert receiver.got == []
    assert layer.channels[channel].qsize() == 1
