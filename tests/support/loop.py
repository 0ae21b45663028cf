"""Watching the event loop from a test: does it keep running while something else works?"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Ticks:
    """How many times a ``period``-second timer fired on the loop."""

    count = 0


@contextlib.asynccontextmanager
async def loop_ticks(period: float = 0.01) -> AsyncIterator[Ticks]:
    """Count timer ticks on the running loop while the body runs (a blocked loop does not tick)."""
    ticks = Ticks()

    async def tick() -> None:
        while True:
            await asyncio.sleep(period)
            ticks.count += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()
