"""URL configuration shared by the framework checkout and generated projects."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from mozaiks_core.api import api, api_not_found
from mozaiks_core.health import health, ready
from mozaiks_core.observability.views import metrics_view

urlpatterns = [
    path("health", health, name="health"),
    path("ready", ready, name="ready"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/console/", include("mozaiks_core.console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("", include("mozaiks_core.auth.urls")),
    path("billing/", include("mozaiks_core.billing.urls")),
    path("chat/", include("mozaiks_core.runtime.pages.urls")),
    path("", include("mozaiks_core.runtime.urls")),
    path("", include("mozaiks_core.plugins.urls")),
]

handler404 = "mozaiks_core.error_pages.page_not_found"
handler500 = "mozaiks_core.error_pages.server_error"
