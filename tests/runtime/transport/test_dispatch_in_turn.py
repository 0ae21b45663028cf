"""``dispatch_in_turn``: a consumer's socket and layer messages, handled one at a time, a turn sooner."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import StopConsumer

from mozaiks_core.runtime.transport.dispatch import dispatch_in_turn


class Sources:
    def __init__(self) -> None:
        self.socket: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.handled: list[str] = []
        self.running = 0
        self.overlapped = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        self.running += 1
        self.overlapped |= self.running > 1
        try:
            if message.get("raise"):
                raise message["raise"]
            for _ in range(message.get("turns", 0)):
                await asyncio.sleep(0)
            self.handled.append(message["name"])
        finally:
            self.running -= 1


async def test_a_socket_message_is_handled_at_the_loops_next_turn() -> None:
    sources = Sources()
    serving = asyncio.ensure_future(dispatch_in_turn(sources.socket.get, sources.layer.get, sources.dispatch))
    await asyncio.sleep(0)
    sources.socket.put_nowait({"name": "frame"})
    await asyncio.sleep(0)  # Channels' await_many_dispatch needs three
    assert sources.handled == ["frame"]
    serving.cancel()


async def test_handlers_never_overlap_and_both_sources_are_served() -> None:
    sources = Sources()
    serving = asyncio.ensure_future(dispatch_in_turn(sources.socket.get, sources.layer.get, sources.dispatch))
    sources.socket.put_nowait({"name": "slow frame", "turns": 5})
    await asyncio.sleep(0)
    sources.layer.put_nowait({"name": "layer message"})
    sources.socket.put_nowait({"name": "next frame"})
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(sources.handled) == ["layer message", "next frame", "slow frame"]
    assert sources.handled[0] == "slow frame"
    assert not sources.overlapped
    serving.cancel()


async def test_a_closed_socket_ends_the_call_and_stops_reading_the_layer() -> None:
    sources = Sources()
    serving = asyncio.ensure_future(dispatch_in_turn(sources.socket.get, sources.layer.get, sources.dispatch))
    sources.socket.put_nowait({"name": "disconnect", "raise": StopConsumer()})
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(serving, 5)
    sources.layer.put_nowait({"name": "late"})
    await asyncio.sleep(0.01)
    assert sources.handled == []


async def test_a_failing_layer_handler_ends_the_call_while_the_socket_is_quiet() -> None:
    sources = Sources()
    serving = asyncio.ensure_future(dispatch_in_turn(sources.socket.get, sources.layer.get, sources.dispatch))
    sources.layer.put_nowait({"name": "bad", "raise": ValueError("No handler for message type x")})
    with pytest.raises(ValueError, match="No handler"):
        await asyncio.wait_for(serving, 5)


async def test_without_a_layer_only_the_socket_is_served() -> None:
    sources = Sources()
    serving = asyncio.ensure_future(dispatch_in_turn(sources.socket.get, None, sources.dispatch))
    sources.socket.put_nowait({"name": "frame"})
    await asyncio.sleep(0.01)
    assert sources.handled == ["frame"]
    serving.cancel()
