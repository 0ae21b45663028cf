"""Small views of the plugin host: brand assets, and the home page when no workspace page claims ``/``."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from mozaiks_core.plugins.pages import page_view
from mozaiks_core.plugins.presentation import asset_path
from mozaiks_core.plugins.registry import get_workspace

ASSET_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".otf"}


def brand_asset(request: HttpRequest, name: str) -> FileResponse:
    """A file of ``brand/assets/`` or ``brand/public/`` (images and fonts only; no path may leave them)."""
    path = asset_path(get_workspace(), name)
    if path is None or path.suffix.lower() not in ASSET_TYPES:
        raise Http404("no such brand asset")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(Path(path).open("rb"), content_type=content_type)  # noqa: SIM115 (closed by Django)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def default_home(request: HttpRequest) -> HttpResponse:
    """``/``: the workspace's page there, else its ``landing_spot``, else the framework's landing page
    (decided per request, so a promoted workspace changes it without a restart)."""
    workspace = get_workspace()
    if workspace.page_for_route("/") is not None:
        return page_view(request, route="/")
    if workspace.landing_spot and workspace.landing_spot != "/":
        return redirect(workspace.landing_spot)
    return render(request, "mozaiks/home.html", {"workspace": workspace})
