"""Cheap, cached facts about the app workspace that the foundation needs (``app.json``, its revision).

The revision stamp (``<MOZAIKS_APP_DIR>/.mozaiks/revision``) is the reload signal: promotion (and
``manage.py mozaiks reload``) writes a new one, and every process that sees it change, checked at
most once a second, reloads its workspace, pages and workflows without a restart.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from mozaiks_core.parsing import loads_json

REVISION_FILE = Path(".mozaiks") / "revision"
REVISION_CHECK_SECONDS = 1.0
_revisions: dict[str, tuple[float, str]] = {}
_revision_lock = threading.Lock()


def workspace_revision(app_dir: Path | str | None = None) -> str:
    """The workspace's revision stamp ("" before the first promotion), re-read at most once a second."""
    folder = str(app_dir if app_dir is not None else settings.MOZAIKS_APP_DIR)
    now = time.monotonic()
    with _revision_lock:
        checked = _revisions.get(folder)
        if checked is not None and now - checked[0] < REVISION_CHECK_SECONDS:
            return checked[1]
    try:
        value = (Path(folder) / REVISION_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        value = ""
    with _revision_lock:
        if checked is not None and checked[1] != value:
            _read_app_json.cache_clear()
        _revisions[folder] = (now, value)
    return value


def bump_revision(app_dir: Path | str) -> str:
    """Write a new revision stamp (atomically) so every process reloads the workspace."""
    path = Path(app_dir) / REVISION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    value = uuid.uuid4().hex
    temporary = path.with_name(f".revision.{value}")
    temporary.write_text(value + "\n", encoding="utf-8")
    os.replace(temporary, path)
    with _revision_lock:
        _revisions.pop(str(app_dir), None)
        _revisions.pop(str(Path(app_dir).resolve()), None)
    _read_app_json.cache_clear()
    return value


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
