"""Small views of the plugin host: brand assets, the favicon, and the home page when no workspace page claims ``/``."""

from __future__ import annotations

import contextlib
import mimetypes
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mozaiks_core.plugins.registry import get_workspace

ASSET_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".otf"}


def brand_asset(request: HttpRequest, name: str) -> FileResponse:
    """A file of ``brand/assets/`` (images and fonts only; no path may leave that folder)."""
    root = (get_workspace().app_dir / "brand" / "assets").resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.suffix.lower() not in ASSET_TYPES:
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
    """The landing page of a workspace without a page at ``/``."""
    return render(request, "mozaiks/home.html", {"workspace": get_workspace()})
