"""The project's django-ninja API, mounted at ``/api/``; each app contributes one Router."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI

from mozaiks_core import __version__
from mozaiks_core.auth.api import router as auth_router
from mozaiks_core.auth.client_token_api import router as client_token_router
from mozaiks_core.auth.errors import install_error_handlers
from mozaiks_core.billing.api import router as billing_router
from mozaiks_core.entitlements.api import router as entitlements_router
from mozaiks_core.plugins.api import router as plugins_router
from mozaiks_core.plugins.chatui_theme import router as theme_router
from mozaiks_core.runtime.api import router as runtime_router
from mozaiks_core.runtime.chatui_api import router as chatui_router


def build_api() -> NinjaAPI:
    """Create the API with every framework router; projects may add their own routers."""
    api = NinjaAPI(
        title="MozaiksCore API",
        version=__version__,
        description="Accounts, billing, entitlements, plugins and the agent runtime.",
        urls_namespace="api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    api.add_router("", auth_router)
    api.add_router("", client_token_router)
    api.add_router("", billing_router)
    api.add_router("", entitlements_router)
    api.add_router("", plugins_router)
    api.add_router("", runtime_router)
    api.add_router("", chatui_router)
    api.add_router("", theme_router)
    install_error_handlers(api)
    return api


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under ``/api/`` that no route serves: a JSON 404, never the HTML error page."""
    return JsonResponse({"error": "NOT_FOUND", "message": f"No API route {request.method} {request.path}; "
                         "GET /api/docs lists them.", "path": request.path}, status=404)


api = build_api()
