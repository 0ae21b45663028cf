"""The workspace's look and navigation: ``brand/brand.json``, ``brand/ui.json``, ``brand/navigation.json``,
``ui/route_manifest.json`` and ``config/shell.json``.

Presentation files never disable anything, so their defects are warnings. ``brand.json`` is read in
the reference app's nested shape (``colors.primary.main``, ``fonts.body.family``, ``assets.logo``)
and in our flat shape; both become the flat view the shell renders. The reference app keeps its
brand files in ``brand/public/``; ``brand/`` is read first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mozaiks_core.plugins import schemas
from mozaiks_core.plugins.documents import DocumentReader, warn
from mozaiks_core.plugins.specs import NavItem, Workspace

BRAND_FOLDERS = ("brand", "brand/public")
# nested brand colour → the flat colour names of the shell's CSS variables
NESTED_COLORS = {
    ("primary", "main"): "primary", ("text", "onAccent"): "primary_contrast", ("background", "base"): "background",
    ("background", "surface"): "surface", ("text", "primary"): "text", ("text", "secondary"): "muted",
    ("border", "subtle"): "border", ("secondary", "main"): "secondary", ("accent", "main"): "accent",
    ("success", "main"): "success", ("warning", "main"): "warning", ("error", "main"): "error",
}


def _brand_file(workspace: Workspace, name: str) -> Path:
    for folder in BRAND_FOLDERS:
        path = workspace.app_dir / folder / name
        if path.is_file():
            return path
    return workspace.app_dir / "brand" / name


def _lenient(path: Path, schema: dict[str, Any], reader: DocumentReader) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = reader.read(path)
    if not isinstance(data, dict):
        return {}
    reader.validate(data, schema, path, level="warning")
    return data


def flatten_brand(raw: dict[str, Any]) -> dict[str, Any]:
    """The nested reference shape (or our flat one) → ``{name, colors, fonts, font_urls, logo, favicon}``."""
    colors: dict[str, str] = {}
    for key, value in (raw.get("colors") or {}).items():
        if isinstance(value, str):
            colors[key] = value
        elif isinstance(value, dict):
            for (group, shade), flat in NESTED_COLORS.items():
                if group == key and isinstance(value.get(shade), str):
                    colors[flat] = value[shade]
    fonts: dict[str, str] = {}
    font_urls = [url for url in raw.get("font_urls") or [] if isinstance(url, str)]
    for key, value in (raw.get("fonts") or {}).items():
        if isinstance(value, str):
            fonts[key] = value
        elif isinstance(value, dict) and isinstance(value.get("family"), str):
            family = value["family"] if " " not in value["family"] else f"'{value['family']}'"
            fonts[key] = ", ".join(part for part in (family, value.get("fallbacks")) if part)
            if isinstance(value.get("googleFont"), str):
                font_urls.append(value["googleFont"])
    assets = raw.get("assets") or {}
    return {"name": raw.get("name"), "tagline": raw.get("tagline", ""), "colors": colors, "fonts": fonts,
            "font_urls": font_urls, "logo": raw.get("logo") or assets.get("logo"),
            "favicon": raw.get("favicon") or assets.get("favicon")}


def read_brand(workspace: Workspace, reader: DocumentReader) -> None:
    """brand.json, ui.json and shell.json; an asset that is not a file is dropped with a warning."""
    brand_path = _brand_file(workspace, "brand.json")
    workspace.brand = flatten_brand(_lenient(brand_path, schemas.BRAND, reader)) if brand_path.is_file() else {}
    workspace.ui = _lenient(_brand_file(workspace, "ui.json"), schemas.UI, reader)
    workspace.shell = _lenient(workspace.app_dir / "config" / "shell.json", schemas.SHELL, reader)
    folder = brand_path.parent
    for key in ("logo", "favicon"):
        asset = workspace.brand.get(key)
        if isinstance(asset, str) and asset and asset_path(workspace, asset) is None:
            warn(reader, "mozaiks.W003", brand_path, key,
                 f"{key} '{asset}' is not a file in {reader.name(folder)}/assets/ or {reader.name(folder)}/",
                 "add the file or remove the key")
            workspace.brand = {**workspace.brand, key: None}


def asset_path(workspace: Workspace, name: str) -> Path | None:
    """A brand asset by name: ``brand/assets/``, then ``brand/public/`` (the reference app's folder)."""
    for folder in ("brand/assets", "brand/public", "brand/public/assets"):
        root = (workspace.app_dir / folder).resolve()
        candidate = (root / name).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    return None


def _route_manifest(workspace: Workspace, reader: DocumentReader) -> list[NavItem]:
    items: list[NavItem] = []
    manifest_path = workspace.app_dir / "ui" / "route_manifest.json"
    manifest = _lenient(manifest_path, schemas.ROUTE_MANIFEST, reader)
    for index, route in enumerate(manifest.get("routes") or []):
        if not isinstance(route, dict) or "page" not in route or "path" not in route:
            continue
        page = workspace.pages.get(route["page"])
        if page is None:
            warn(reader, "mozaiks.W001", manifest_path, f"routes[{index}].page",
                 f"route '{route['path']}' names unknown page '{route['page']}'; it is not served",
                 f"known pages: {', '.join(sorted(workspace.pages)) or 'none'}")
            continue
        workspace.routes.setdefault(route["path"], page.id)
        if route.get("nav"):
            items.append(NavItem(route.get("label") or page.title, route["path"], page.auth, "",
                                 route.get("order", 100)))
    return items


def read_navigation(workspace: Workspace, reader: DocumentReader) -> None:
    """Navigation from the route manifest and ``navigation.json`` (``items`` or the reference ``pages``)."""
    items = _route_manifest(workspace, reader)
    nav_path = _brand_file(workspace, "navigation.json")
    navigation = _lenient(nav_path, schemas.NAVIGATION, reader)
    workspace.startup_mode = str(navigation.get("startup_mode") or "")
    if isinstance(navigation.get("landing_spot"), str) and not workspace.landing_spot:
        workspace.landing_spot = navigation["landing_spot"]
    for key in ("items", "pages"):
        for index, raw in enumerate(navigation.get(key) or []):
            label = raw.get("label") or raw.get("title") if isinstance(raw, dict) else None
            if not label:
                continue
            route = raw.get("route") or raw.get("path") or ""
            if route and route not in workspace.routes:
                warn(reader, "mozaiks.W001", nav_path, f"{key}[{index}].{'route' if 'route' in raw else 'path'}",
                     f"navigation item '{label}' points at '{route}', which no page serves",
                     "add a page with that route or fix the link")
                continue
            page = workspace.page_for_route(route)
            items.append(NavItem(label, raw.get("href") or route or "/",
                                 raw.get("auth") or (page.auth if page else "public"), raw.get("icon", ""),
                                 raw.get("order", index), tuple(raw.get("roles") or ())))
    seen: set[str] = set()
    workspace.navigation = tuple(item for item in sorted(items, key=lambda i: i.order)
                                 if not (item.href in seen or seen.add(item.href)))
