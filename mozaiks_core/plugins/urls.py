"""Page and webhook URLs of the plugins app."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "mozaiks_plugins"
urlpatterns: list[URLPattern] = []
