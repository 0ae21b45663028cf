"""The benchmark's ASGI app: MozaiksCore's application plus a bare Channels echo consumer.

The echo consumer is the baseline of ``benchmarks/runtime.py`` (b): each client frame makes one
hop through the same channel layer (group_send to the socket's own group) and comes back with
the server's timestamp, so chat events and echoes are measured by the same harness and server.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from mozaiks_core.asgi import django_asgi_app
from mozaiks_core.runtime.protocol.frames import now_iso
from mozaiks_core.runtime.transport.routing import websocket_urlpatterns
from mozaiks_core.runtime.transport.socket_auth import WebSocketAuthMiddleware


class EchoConsumer(AsyncWebsocketConsumer):
    """Echo every frame back through the channel layer, stamped when the server received it."""

    async def connect(self) -> None:
        self.group = f"bench.echo.{uuid.uuid4().hex}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(self.group, {"type": "echo.frame", "stamp": now_iso(),
                                                         "text": text_data or ""})

    async def echo_frame(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": "echo", "data": {"text": message["text"]},
                                              "timestamp": message["stamp"], "seq": 0}))


application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(WebSocketAuthMiddleware(URLRouter([
        path("bench/echo/", EchoConsumer.as_asgi()), *websocket_urlpatterns,
    ]))),
})
