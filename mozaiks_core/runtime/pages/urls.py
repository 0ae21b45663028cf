"""URLs of the chat pages, mounted at ``/chat/``."""

from __future__ import annotations

from django.urls import path

from mozaiks_core.runtime.pages import views

app_name = "mozaiks_chat"
urlpatterns = [
    path("", views.chat_home, name="home"),
    path("components.json", views.component_manifest, name="components"),
    path("components/<str:name>.js", views.component_module, name="component"),
    path("<str:chat_id>/", views.chat_detail, name="conversation"),
]
