"""URLs of the chat pages, mounted at ``/chat/``."""

from __future__ import annotations

from django.urls import path

from mozaiks_core.runtime.pages import actions, views

app_name = "mozaiks_chat"
urlpatterns = [
    path("", views.chat_home, name="home"),
    path("components.json", views.component_manifest, name="components"),
    path("components/<str:name>.js", views.component_module, name="component"),
    path("<str:chat_id>/", views.chat_detail, name="conversation"),
    path("<str:chat_id>/rename/", actions.rename, name="rename"),
    path("<str:chat_id>/delete/", actions.delete, name="delete"),
    path("<str:chat_id>/restore/", actions.restore, name="restore"),
    path("<str:chat_id>/cancel/", actions.cancel, name="cancel"),
    path("<str:chat_id>/retry/", actions.retry, name="retry"),
]
