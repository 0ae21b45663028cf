"""Console URLs, mounted at ``/admin/console/``; every view is behind the admin's staff login."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from mozaiks_core.console import views

app_name = "mozaiks_console"
urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("transcripts/<str:chat_id>/", admin.site.admin_view(views.transcript), name="transcript"),
]
