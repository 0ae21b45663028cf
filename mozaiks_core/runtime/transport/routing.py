"""WebSocket routes of the chat protocol."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from mozaiks_core.runtime.transport.consumers import ChatConsumer

websocket_urlpatterns: list[URLPattern] = [
    re_path(
        r"^ws/(?P<workflow>[^/]+)/(?P<app_id>[^/]+)/(?P<chat_id>[^/]+)/(?P<user_id>[^/]+)/?$",
        ChatConsumer.as_asgi(),
        name="chat-socket",
    ),
]
