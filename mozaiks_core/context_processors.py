"""Template context shared by every page of the shell."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mozaiks_core import __version__
from mozaiks_core.workspace_info import app_manifest


def mozaiks(request: HttpRequest) -> dict[str, Any]:
    """Expose the framework version and whether the offline scripted model is active."""
    return {
        "mozaiks_version": __version__,
        "mozaiks_app_name": app_manifest().get("appName") or "MozaiksCore",
        "mozaiks_scripted_model": getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted") == "scripted",
    }
