"""A consumer's messages from its socket and from the channel layer, handled one at a time.

Channels' ``await_many_dispatch`` waits for either source with ``asyncio.wait``: a message that
arrives wakes its receiving task, whose completion runs ``asyncio.wait``'s callback, which wakes
the consumer's task: three turns of the event loop before the handler starts, each as long as
everything else the loop has to do (~2 ms apiece with fifty busy chats), on every frame a client
sends. Here the socket's messages are awaited by the consumer's own task (one turn) and the
layer's by a second task; a lock keeps handlers from overlapping, as they never did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Dispatch = Callable[[dict[str, Any]], Awaitable[None]]


async def dispatch_in_turn(receive: Receive, channel_receive: Receive | None, dispatch: Dispatch) -> None:
    """Dispatch every message of ``receive`` and ``channel_receive``, one handler at a time, until a
    handler raises (``StopConsumer`` when the socket closed): that exception ends the call."""
    turn = asyncio.Lock()
    consumer = asyncio.current_task()
    failure: list[BaseException] = []

    async def from_layer(channel_receive: Receive) -> None:
        try:
            while True:
                message = await channel_receive()
                async with turn:
                    await dispatch(message)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # ends the consumer as it would under Channels' own loop
            failure.append(error)
            if consumer is not None:
                consumer.cancel()

    layer_task = asyncio.ensure_future(from_layer(channel_receive)) if channel_receive is not None else None
    try:
        while True:
            message = await receive()
            async with turn:
                await dispatch(message)
    except asyncio.CancelledError:
        if failure:
            raise failure[0] from None
        raise
    finally:
        if layer_task is not None:
            layer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await layer_task
