"""``group_send_many``: a batch of group messages in one Redis round trip per shard, outcomes per message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer

from mozaiks_core.runtime.protocol.layers import LocalChannelLayer, group_send_many


async def test_on_the_local_layer_every_group_gets_its_messages_in_order() -> None:
    layer = LocalChannelLayer()
    one, two = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("chat.one", one)
    await layer.group_add("chat.two", two)
    outcomes = await group_send_many(layer, [
        ("chat.one", {"type": "chat.frames", "frames": [[1, "a"]]}),
        ("chat.two", {"type": "chat.frames", "frames": [[7, "x"]]}),
        ("chat.one", {"type": "chat.frames", "frames": [[2, "b"]]}),
    ])
    assert outcomes == [None, None, None]
    assert [(await layer.receive(one))["frames"] for _ in range(2)] == [[[1, "a"]], [[2, "b"]]]
    assert (await layer.receive(two))["frames"] == [[7, "x"]]


async def test_a_message_that_cannot_be_sent_is_reported_and_the_others_still_go() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("chat.ok", channel)
    outcomes = await group_send_many(layer, [
        ("bad group name!", {"type": "chat.frames", "frames": []}),
        ("chat.ok", {"type": "chat.frames", "frames": [[1, "a"]]}),
    ])
    assert outcomes[0] is not None
    assert "group name" in str(outcomes[0]).lower()
    assert outcomes[1] is None
    assert (await layer.receive(channel))["frames"] == [[1, "a"]]


@pytest.mark.redis
async def test_on_the_redis_pubsub_layer_a_batch_is_one_pipeline_and_arrives_in_order(
    redis_channel_layer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = get_channel_layer()
    one, two = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("chat.one", one)
    await layer.group_add("chat.two", two)
    shard = layer._get_layer()._shards[0]

    async def refuse(*args: Any) -> None:
        raise AssertionError("group_send_many published message by message instead of pipelining")

    monkeypatch.setattr(shard, "publish", refuse)
    messages = [("chat.one", {"type": "chat.frames", "frames": [[seq, f"e{seq}"]]}) for seq in range(1, 21)]
    messages.insert(5, ("chat.two", {"type": "chat.frames", "frames": [[1, "other"]]}))
    assert await group_send_many(layer, messages) == [None] * 21
    received = [(await asyncio.wait_for(layer.receive(one), 5))["frames"][0][0] for _ in range(20)]
    assert received == list(range(1, 21))
    assert (await asyncio.wait_for(layer.receive(two), 5))["frames"] == [[1, "other"]]
    await layer.flush()


@pytest.mark.redis
async def test_an_unreachable_redis_is_reported_per_message_not_raised(redis_channel_layer: str, settings: Any) -> None:
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": redis_channel_layer},
    }}
    channel_layers.backends.clear()
    layer = get_channel_layer()
    outcomes = await group_send_many(layer, [("chat.one", {"type": "x"}), ("chat.two", {"type": "y"})])
    assert len(outcomes) == 2
    assert all(isinstance(outcome, Exception) for outcome in outcomes)
    channel_layers.backends.clear()


@pytest.mark.redis
async def test_on_redis_a_message_that_cannot_be_serialized_is_reported_and_the_others_still_go(
    redis_channel_layer: str
) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("chat.ok", channel)
    outcomes = await group_send_many(layer, [
        ("chat.bad", {"type": "chat.frames", "frames": [[1, object()]]}),
        ("chat.ok", {"type": "chat.frames", "frames": [[1, "a"]]}),
    ])
    assert isinstance(outcomes[0], Exception)
    assert outcomes[1] is None
    assert (await asyncio.wait_for(layer.receive(channel), 5))["frames"] == [[1, "a"]]
    await layer.flush()
