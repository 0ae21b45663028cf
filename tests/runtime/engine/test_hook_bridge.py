"""The hook bridge's pump: a call queued on the loop's own thread is delivered at the loop's next turn."""

from __future__ import annotations

import asyncio
from typing import Any

from mozaiks_core.runtime.engine.bridge import HookBridge


async def test_a_call_queued_on_the_loop_thread_is_delivered_at_the_next_turn() -> None:
    bridge = HookBridge(hooks=None, loop=asyncio.get_running_loop(), chat_id="chat-1")  # type: ignore[arg-type]
    bridge.start()
    await asyncio.sleep(0)  # the pump waits for work
    delivered: list[Any] = []

    async def call() -> None:
        delivered.append("emitted")

    bridge.notify(call)
    await asyncio.sleep(0)  # one turn of the loop
    assert delivered == ["emitted"]
    await bridge.drain()
    bridge.close()
