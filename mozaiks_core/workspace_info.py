"""Cheap, cached facts about the app workspace that the foundation needs (``app.json``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from mozaiks_core.parsing import loads_json


@lru_cache(maxsize=4)
def _read_app_json(path: Path) -> dict[str, object]:
    try:
        data = loads_json(path.read_text(encoding="utf-8"), "app.json")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def app_manifest() -> dict[str, object]:
    """Return the workspace's ``app.json`` (empty when missing or unreadable)."""
    return _read_app_json(Path(settings.MOZAIKS_APP_DIR) / "app.json")


def app_id() -> str:
    """The workspace's ``appId``, used in chat URLs and token claims."""
    return str(app_manifest().get("appId") or "app")
