"""URL configuration shared by the framework checkout and generated projects."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from mozaiks_core.api import api
from mozaiks_core.health import health, ready

urlpatterns = [
    path("health", health, name="health"),
    path("ready", ready, name="ready"),
    path("admin/console/", include("mozaiks_core.console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", api.urls),
    path("", include("mozaiks_core.auth.urls")),
    path("billing/", include("mozaiks_core.billing.urls")),
    path("chat/", include("mozaiks_core.runtime.pages.urls")),
    path("", include("mozaiks_core.runtime.urls")),
    path("", include("mozaiks_core.plugins.urls")),
]

handler404 = "mozaiks_core.error_pages.page_not_found"
handler500 = "mozaiks_core.error_pages.server_error"
