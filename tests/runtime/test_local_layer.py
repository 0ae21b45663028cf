"""The embedded default's channel layer keeps Channels' in-memory semantics at a lower cost."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.exceptions import ChannelFull

from mozaiks_core.runtime.protocol import layers
from mozaiks_core.runtime.protocol.layers import LocalChannelLayer, copy_message


async def test_every_group_member_gets_its_own_copy_in_order() -> None:
    layer = LocalChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("chat.one", first)
    await layer.group_add("chat.one", second)
    frames = {"type": "chat.frames", "frames": [[1, "a"], [2, "b"]]}
    await layer.group_send("chat.one", frames)
    await layer.group_send("chat.one", {"type": "chat.frames", "frames": [[3, "c"]]})
    got_first = await layer.receive(first)
    got_second = await layer.receive(second)
    assert got_first == got_second == frames
    got_first["frames"].append([99, "mutated"])
    assert got_second["frames"] == [[1, "a"], [2, "b"]]  # receivers never share a message
    assert frames["frames"] == [[1, "a"], [2, "b"]]  # nor share it with the sender
    assert (await layer.receive(first))["frames"] == [[3, "c"]]


async def test_a_full_member_misses_the_message_and_the_others_still_get_it() -> None:
    layer = LocalChannelLayer(capacity=1)
    full, free = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", full)
    await layer.send(full, {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send(full, {"type": "x"})
    await layer.group_add("g", free)
    await layer.group_send("g", {"type": "y"})
    assert await layer.receive(free) == {"type": "y"}
    assert await layer.receive(full) == {"type": "x"}


async def test_expired_messages_are_dropped_at_the_next_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "CLEAN_INTERVAL", 0.0)
    layer = LocalChannelLayer(expiry=0.05)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.send(channel, {"type": "old"})
    await asyncio.sleep(0.1)
    await layer.group_send("other", {"type": "tick"})  # any send runs the clean
    assert channel not in layer.channels  # expired, and the channel left its groups
    assert channel not in layer.groups.get("g", {})


async def test_expiry_scans_are_throttled() -> None:
    layer = LocalChannelLayer()
    scans = 0
    original = layers.InMemoryChannelLayer._clean_expired

    def counting(self: LocalChannelLayer) -> None:
        nonlocal scans
        scans += 1
        original(self)

    layers.InMemoryChannelLayer._clean_expired = counting  # type: ignore[method-assign]
    try:
        started = time.monotonic()
        for _ in range(200):
            await layer.group_send("g", {"type": "x"})
        assert time.monotonic() - started < layers.CLEAN_INTERVAL
        assert scans == 1
    finally:
        layers.InMemoryChannelLayer._clean_expired = original  # type: ignore[method-assign]


def test_copies_json_like_data_deeply_and_other_objects_with_deepcopy() -> None:
    class Box:
        def __init__(self) -> None:
            self.items = [1]

    original = {"a": [{"b": (1, [2])}], "box": Box(), "n": None}
    copied = copy_message(original)
    assert copied["a"] == original["a"]
    assert copied["a"][0]["b"][1] is not original["a"][0]["b"][1]
    assert copied["box"] is not original["box"]
    assert copied["box"].items == [1]


async def test_a_message_that_is_not_a_dict_is_refused() -> None:
    layer = LocalChannelLayer()
    with pytest.raises(TypeError, match="must be a dict"):
        await layer.group_send("g", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="__asgi_channel__"):
        await layer.send(await layer.new_channel(), {"__asgi_channel__": "x"})
