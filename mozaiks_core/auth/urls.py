"""Organization pages (filled by the accounts issue)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "mozaiks_auth"
urlpatterns: list[URLPattern] = []
