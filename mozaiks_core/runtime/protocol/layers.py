"""The embedded default's channel layer: Channels' in-memory layer at a constant cost per message.

``channels.layers.InMemoryChannelLayer`` walks every channel and every group membership of the
process to expire old messages on *each* ``receive`` and ``group_send``, deep-copies every
message with :func:`copy.deepcopy`, and starts one task per group member. With fifty chats and
their runs in one process that scan was the biggest cost of the event loop after the sockets
themselves. :class:`LocalChannelLayer` keeps its behaviour (per-channel capacity, message expiry,
group expiry, a private copy of each message per receiver) and changes the costs:

- expiry runs at most once per :data:`CLEAN_INTERVAL` seconds (a message may outlive its
  ``expiry`` by that much);
- messages are copied by a copier for the JSON-like data channel layers carry (other values
  still go through ``deepcopy``);
- ``group_send`` puts the message on each member's queue directly (``send`` never waits);
- a consumer may take its messages as they are sent (:func:`attach_receiver`).

For several processes use Redis (``REDIS_URL``): this layer, like Channels' own, only connects
consumers of one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

CLEAN_INTERVAL = 1.0
# Takes a message sent to its channel as it is sent (on the event loop's thread) and returns True,
# or returns False, leaving it unchanged, to have it queued for the channel's ``receive`` as usual.
# It must not block.
DirectReceiver = Callable[[dict[str, Any]], bool]
_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def copy_message(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, tuples, scalars); anything else via ``deepcopy``."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: copy_message(item) for key, item in value.items()}
    if kind is list:
        return [copy_message(item) for item in value]
    if kind is tuple:
        return tuple(copy_message(item) for item in value)
    return deepcopy(value)


def _require_message(message: Any) -> None:
    """The layer API's contract (Channels asserts it; this also holds under ``python -O``)."""
    if not isinstance(message, dict):
        raise TypeError(f"a channel-layer message must be a dict, not {type(message).__name__}")
    if "__asgi_channel__" in message:
        raise ValueError("a channel-layer message must not carry __asgi_channel__")


class LocalChannelLayer(InMemoryChannelLayer):
    """In-process channel layer with throttled expiry and cheap copies (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cleaned_at = float("-inf")
        # channel -> (the event loop the receiver runs on, the receiver)
        self.receivers: dict[str, tuple[asyncio.AbstractEventLoop, DirectReceiver]] = {}

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._cleaned_at < CLEAN_INTERVAL:
            return
        self._cleaned_at = now
        super()._clean_expired()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue a private copy of ``message`` on ``channel`` (``ChannelFull`` at capacity)."""
        _require_message(message)
        self.require_valid_channel_name(channel)
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        if queue.full():  # checked first: a receiver never declines a message that is then dropped
            raise ChannelFull(channel)
        private = copy_message(message)
        attached = self.receivers.get(channel)
        # Only on the receiver's own loop: a sender on another thread (async_to_sync from a thread
        # without a loop) queues the message as before.
        if attached is not None and attached[0] is asyncio.get_running_loop() and attached[1](private):
            return
        try:
            queue.put_nowait((time.time() + self.expiry, private))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def flush(self) -> None:
        """Forget every channel, group and receiver."""
        self.receivers.clear()
        await super().flush()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of ``group``; a full member misses it, as in Channels."""
        _require_message(message)
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):
                await self.send(channel, message)


def attach_receiver(layer: Any, channel: str, receiver: DirectReceiver) -> bool:
    """Hand the messages of ``channel`` (a consumer's own) to ``receiver`` as they arrive in this process.

    A consumer's messages normally wait in the channel's queue until its ``receive`` task takes one
    and its dispatch loop runs the handler: with Channels' ``await_many_dispatch`` that is three
    turns of the event loop per message, each as long as everything else the loop has to do
    (~3 ms apiece with fifty busy chats). A receiver handles a message in the turn it arrives in;
    whatever it declines goes to the queue as before, so it decides the order (a receiver declines
    everything while anything it declined is still unhandled). Supported on :class:`LocalChannelLayer`
    (at ``send``) and on ``channels_redis``'s pub/sub layer (as the message comes off the Redis
    connection); returns False on any other layer, whose consumer keeps the queue only. The
    receiver is only called on the event loop it was attached on.
    """
    if isinstance(layer, LocalChannelLayer):
        layer.receivers[channel] = (asyncio.get_running_loop(), receiver)
        return True
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is None:
        return False
    queue = loop_layer.channels.get(channel)
    if queue is None:
        return False
    if isinstance(queue, _ReceivingQueue):
        queue = queue.queue
    loop_layer.channels[channel] = _ReceivingQueue(queue, receiver, layer.deserialize)
    return True


def detach_receiver(layer: Any, channel: str) -> None:
    """Undo :func:`attach_receiver`: the channel's messages wait in its queue again."""
    if isinstance(layer, LocalChannelLayer):
        layer.receivers.pop(channel, None)
        return
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is not None:
        queue = loop_layer.channels.get(channel)
        if isinstance(queue, _ReceivingQueue):
            loop_layer.channels[channel] = queue.queue


class _ReceivingQueue:
    """Stands in for a pub/sub channel's queue: what arrives goes to the receiver first.

    The layer's Redis reader calls ``put_nowait`` with the serialized message; ``receive`` awaits
    ``get`` on whichever object it found, so a message the receiver declines goes to the original
    queue, which is what ``get`` reads.
    """

    def __init__(self, queue: asyncio.Queue[Any], receiver: DirectReceiver,
                 deserialize: Callable[[bytes], dict[str, Any]]) -> None:
        self.queue = queue
        self.receiver = receiver
        self.deserialize = deserialize

    def put_nowait(self, data: bytes) -> None:
        try:
            message = self.deserialize(data)
        except Exception:  # left for receive(), which reports it where the consumer reads
            self.queue.put_nowait(data)
            return
        if not self.receiver(message):
            self.queue.put_nowait(data)

    async def get(self) -> Any:
        return await self.queue.get()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


def _pubsub_loop_layer(layer: Any) -> Any:
    """The running loop's ``RedisPubSubLoopLayer`` of ``layer``, or ``None`` for any other layer."""
    try:
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:
        return None
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    return layer._get_layer()


async def group_send_many(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> list[BaseException | None]:
    """``group_send`` of every ``(group, message)``; the outcome of each (``None`` when sent).

    On ``channels_redis``'s pub/sub layer the messages go out as one pipelined round trip per
    Redis shard instead of one round trip each: the event writer publishes a batch for dozens of
    chats at once, and sequential ``PUBLISH`` calls were a third of an event's delivery time under
    load. Any other layer gets one ``group_send`` per message.
    """
    result: list[BaseException | None] = [None] * len(messages)
    shards = _pubsub_shards(layer, messages, result)
    if shards is None:
        outcomes: list[BaseException | None] = []
        for group, message in messages:
            try:
                await layer.group_send(group, message)
                outcomes.append(None)
            except Exception as error:  # reported per message: one bad group must not stop the rest
                outcomes.append(error)
        return outcomes
    for shard, items in shards.items():
        try:
            async with shard._lock:
                shard._ensure_redis()
                pipeline = shard._redis.pipeline(transaction=False)
                for _, channel, data in items:
                    pipeline.publish(channel, data)
                await pipeline.execute()
        except Exception as error:
            for index, _, _ in items:
                result[index] = error
    return result


def _pubsub_shards(layer: Any, messages: list[tuple[str, dict[str, Any]]], result: list[BaseException | None]
                   ) -> dict[Any, list[Any]] | None:
    """The messages serialized and grouped by shard, or ``None`` when ``layer`` is not the pub/sub
    layer; a message that cannot be serialized gets its error in ``result`` and is left out."""
    try:
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:
        return None
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    loop_layer = layer._get_layer()
    shards: dict[Any, list[Any]] = {}
    for index, (group, message) in enumerate(messages):
        try:
            data = layer.serialize(message)
        except Exception as error:
            result[index] = error
            continue
        channel = loop_layer._get_group_channel_name(group)
        shards.setdefault(loop_layer._get_shard(channel), []).append((index, channel, data))
    return shards
