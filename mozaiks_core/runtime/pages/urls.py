"""URLs of the chat pages, mounted at ``/chat/``."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "mozaiks_chat"
urlpatterns: list[URLPattern] = []
