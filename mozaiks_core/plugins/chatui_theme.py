"""``GET /api/themes/{app_id}``: the workspace's brand as the MozaiksAI ChatUI's theme override.

The ChatUI merges ``theme`` over its own ``brand.json``; this answer carries what ``brand/`` says:
the app's name, logo, colours and body font.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from mozaiks_core.auth.scoping import caller_scoped
from mozaiks_core.auth.security import api_auth
from mozaiks_core.plugins.shell import theme_config

router = Router(tags=["plugins"])


def chatui_theme() -> dict[str, Any]:
    """The ChatUI theme fragment built from ``brand/brand.json`` and ``brand/ui.json``."""
    config = theme_config()
    variables = config["css_variables"]
    colors: dict[str, Any] = {}
    for name, variable in (("primary", "--mz-primary"), ("background", "--mz-bg"), ("surface", "--mz-surface"),
                           ("text", "--mz-text")):
        if variable in variables:
            colors[name] = {"main": variables[variable]}
    fonts = {"body": {"family": variables["--mz-font"]}} if "--mz-font" in variables else {}
    return {"name": config["app_name"], "branding": {"name": config["app_name"], "logo": config["logo_url"],
                                                      "favicon": config["favicon_url"]},
            "colors": colors, "fonts": fonts}


@router.get("/themes/{app_id}", auth=api_auth)
@caller_scoped
def theme(request: HttpRequest, app_id: str) -> HttpResponse:
    """The brand of this workspace's app; another app id is a 404."""
    config = theme_config()
    if app_id != config["app_id"]:
        return JsonResponse({"error": "APP_NOT_FOUND", "message": f"Unknown app {app_id!r}; this server runs "
                             f"{config['app_id']!r}.", "app_id": app_id}, status=404)
    return JsonResponse({"theme": chatui_theme(), "source": "brand", "app_id": app_id})
