"""Small views of the plugin host: brand assets, the favicon, and the home page when no workspace page claims ``/``."""

from __future__ import annotations

import contextlib
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


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``: the brand's favicon (``brand.json`` ``favicon``), else the framework's mark."""
    name = get_workspace().brand.get("favicon")
    if isinstance(name, str) and name:
        with contextlib.suppress(Http404):
            return brand_asset(request, name)
    response = FileResponse((Path(__file__).resolve().parents[1] / "static" / "mozaiks" / "favicon.svg").open("rb"),
                            content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
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
