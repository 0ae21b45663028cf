"""Pages of the plugin host: declarative pages at their routes, brand assets, and module URLs.

Each module (and enabled pack) with a ``urls.py`` is included at the site root under its own
``app_name`` namespace; workspace page routes are explicit patterns computed at startup (so
``reverse("mozaiks_plugins:page-<id>")`` works), followed by one pattern that serves the routes of
the current workspace revision: pages promoted after startup are served without a restart.
"""

from __future__ import annotations

import importlib.util
import logging

from django.urls import URLPattern, URLResolver, include, path
from django.urls.resolvers import RoutePattern

from mozaiks_core.plugins.pages import page_view
from mozaiks_core.plugins.registry import get_workspace
from mozaiks_core.plugins.views import brand_asset, default_home, favicon

logger = logging.getLogger(__name__)


class CurrentPageRoutes(RoutePattern):
    """Matches a path only when the workspace as it is now serves a page there."""

    def match(self, path: str) -> tuple[str, tuple[()], dict[str, str]] | None:
        """``greeter`` → ``{"route": "/greeter"}`` while a page has that route."""
        route = "/" + path
        return ("", (), {"route": route}) if route in get_workspace().routes else None


def _own_patterns() -> list[URLPattern]:
    workspace = get_workspace()
    patterns = [path("brand/assets/<path:name>", brand_asset, name="brand-asset"),
                path("favicon.ico", favicon, name="favicon"),
                path("", default_home, name="home")]
    for route, page_id in sorted(workspace.routes.items()):
        if route == "/":
            continue  # default_home serves the page at /
        patterns.append(path(route.lstrip("/"), page_view, {"route": route},
                             name=f"page-{page_id}" if workspace.pages[page_id].route == route else None))
    patterns.append(URLPattern(CurrentPageRoutes("<path:route>", is_endpoint=True), page_view))
    return patterns


def _module_includes() -> list[URLResolver]:
    resolvers = []
    for module in get_workspace().modules.values():
        name = f"{module.import_name}.urls"
        try:
            if importlib.util.find_spec(name) is None:
                continue
            resolvers.append(path("", include(name)))
        except Exception:
            logger.exception("URLs of module %s cannot be included", module.id)
    return resolvers


urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((_own_patterns(), "mozaiks_plugins"))),
    *_module_includes(),
]
