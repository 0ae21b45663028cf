"""The app shell's data: navigation for a user, and the brand as CSS variables (for pages and the API)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from mozaiks_core.plugins.registry import get_workspace, loaded_plugins
from mozaiks_core.plugins.specs import NavItem

CSS_VARIABLES = {
    "primary": "--mz-primary", "primary_contrast": "--mz-primary-contrast", "background": "--mz-bg",
    "surface": "--mz-surface", "text": "--mz-text", "muted": "--mz-muted", "border": "--mz-border",
    "secondary": "--mz-secondary", "accent": "--mz-accent", "success": "--mz-success", "warning": "--mz-warning",
    "error": "--mz-error",
}
FONT_VARIABLES = {"body": "--mz-font", "heading": "--mz-font-heading"}


def _visible(item: NavItem, authenticated: bool, role: str | None) -> bool:
    if item.roles and (not authenticated or role not in item.roles):
        return False
    if item.auth == "required":
        return authenticated
    if item.auth == "anonymous":
        return not authenticated
    return True


def navigation_items() -> list[NavItem]:
    """Workspace navigation, then pages of enabled packs and plugin items (computed from memory)."""
    items = list(get_workspace().navigation)
    for loaded in loaded_plugins():
        if loaded.status == "loaded" and loaded.plugin is not None:
            items += [NavItem(raw["label"], raw["href"], raw.get("auth", "public"), raw.get("icon", ""),
                              raw.get("order", 500)) for raw in loaded.plugin.navigation]
    if apps.is_installed("mozaiks_core.packs.audit"):
        with contextlib.suppress(NoReverseMatch):
            items.append(NavItem("Activity", reverse("mozaiks_audit:activity"), "required", "", 900,
                                 _audit_roles()))
    return items


def _audit_roles() -> tuple[str, ...]:
    """The roles the audit pack's ``audit.view`` permission admits (the Activity page refuses the rest)."""
    module = get_workspace().modules.get("audit")
    permission = module.permissions.get("audit.view") if module is not None else None
    return tuple(permission.roles) if permission is not None else ("owner", "admin")


def navigation_for(user: Any, role: str | None = None) -> list[dict[str, Any]]:
    """The navigation a user sees: sign-in state and the role in the active organization decide.

    An item with ``roles`` is hidden from every other role, so nobody is offered a page that
    answers 403.
    """
    authenticated = bool(getattr(user, "is_authenticated", False))
    return [{"label": item.label, "href": item.href, "icon": item.icon}
            for item in navigation_items() if _visible(item, authenticated, role)]


def _asset_url(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return reverse("mozaiks_plugins:brand-asset", args=[name])
    except NoReverseMatch:  # a project URLconf without the plugin host's URLs
        return None


def theme_config() -> dict[str, Any]:
    """brand.json and ui.json resolved for the shell: CSS variables, logo, favicon, fonts."""
    workspace = get_workspace()
    brand, ui = workspace.brand, workspace.ui
    variables: dict[str, str] = {}
    for key, value in (brand.get("colors") or {}).items():
        if key in CSS_VARIABLES and isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{3,6}", value):
            variables[CSS_VARIABLES[key]] = value
    for key, value in (brand.get("fonts") or {}).items():
        if key in FONT_VARIABLES and isinstance(value, str) and not re.search(r"[;{}<>]", value):
            variables[FONT_VARIABLES[key]] = value
    if isinstance(ui.get("radius"), str) and re.fullmatch(r"\d+(px|rem)", ui["radius"]):
        variables["--mz-radius"] = ui["radius"]
    return {
        "app_id": workspace.app_id,
        "app_name": brand.get("name") or workspace.app_name,
        "css_variables": variables,
        "logo_url": _asset_url(brand.get("logo")),
        "favicon_url": _asset_url(brand.get("favicon")),
        "font_urls": [url for url in brand.get("font_urls") or [] if isinstance(url, str) and url.startswith("https://")],
        "density": ui.get("density", "comfortable"),
        "footer_text": workspace.shell.get("footer_text", ""),
        "landing_spot": workspace.landing_spot or "/",
        "startup_mode": workspace.startup_mode,
        "tagline": brand.get("tagline", ""),
    }


def css_variables_block(variables: dict[str, str]) -> str:
    """``:root { --mz-primary: #123; ... }`` (values were validated by :func:`theme_config`)."""
    return ":root { " + " ".join(f"{name}: {value};" for name, value in variables.items()) + " }"
