"""Workspace UI components: ES modules in ``app/ui/components/<Name>.js`` the chat page may load.

A workspace adds its own UI-tool renderers without a build step: each module default-exports
``render(payload, context)`` returning a DOM element; the page registers it under the file's
stem, which is the ``component_type`` a tool declares.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

COMPONENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def components_dir() -> Path:
    """Where the workspace keeps its component modules."""
    return Path(settings.MOZAIKS_APP_DIR) / "ui" / "components"


def workspace_components() -> list[str]:
    """Names of the workspace's component modules, sorted."""
    folder = components_dir()
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.js") if COMPONENT_NAME.match(path.stem))


def component_path(name: str) -> Path | None:
    """The file of component ``name``, or None when the name is invalid or no such module exists."""
    if not COMPONENT_NAME.match(name):
        return None
    path = components_dir() / f"{name}.js"
    return path if path.is_file() else None
