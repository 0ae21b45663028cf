"""Template context shared by every page of the shell."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest

from mozaiks_core import __version__
from mozaiks_core.workspace_info import app_manifest


def _unread_notifications(request: HttpRequest) -> int | None:
    """The bell's count for a signed-in user (None when the notifications pack is off)."""
    user = getattr(request, "user", None)
    if not apps.is_installed("mozaiks_core.packs.notifications") or not getattr(user, "is_authenticated", False):
        return None
    from mozaiks_core.auth.caller import membership_for_request
    from mozaiks_core.packs.notifications.services import unread_count

    membership = membership_for_request(request, user)
    return unread_count(user, membership.organization) if membership else 0


def mozaiks(request: HttpRequest) -> dict[str, Any]:
    """Expose the framework version, the scripted-model flag, and the shell: navigation, theme, bell."""
    from mozaiks_core.plugins.shell import css_variables_block, navigation_for, theme_config

    theme = theme_config()
    return {
        "mozaiks_version": __version__,
        "mozaiks_app_name": theme["app_name"] or app_manifest().get("appName") or "MozaiksCore",
        "mozaiks_scripted_model": getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted") == "scripted",
        "mozaiks_theme": theme,
        "mozaiks_theme_css": css_variables_block(theme["css_variables"]),
        "mozaiks_navigation": navigation_for(getattr(request, "user", None)),
        "mozaiks_unread_notifications": _unread_notifications(request),
    }
