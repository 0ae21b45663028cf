"""Page and webhook URLs of the billing app."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "mozaiks_billing"
urlpatterns: list[URLPattern] = []
