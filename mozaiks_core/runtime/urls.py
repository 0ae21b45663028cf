"""Page and webhook URLs of the runtime app."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "mozaiks_runtime"
urlpatterns: list[URLPattern] = []
