"""Template context shared by every page of the shell."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest

from mozaiks_core import __version__
from mozaiks_core.account_menu import AccountMenu, account_menu
from mozaiks_core.workspace_info import app_manifest


def _unread_notifications(request: HttpRequest, menu: AccountMenu | None) -> int | None:
    """The bell's count for a signed-in user (None when the notifications pack is off)."""
    if not apps.is_installed("mozaiks_core.packs.notifications") or menu is None:
        return None
    from mozaiks_core.packs.notifications.services import unread_count

    return unread_count(request.user, menu.active.organization) if menu.active else 0


def mozaiks(request: HttpRequest) -> dict[str, Any]:
    """Expose the framework version, the scripted-model flag, and the shell: navigation, theme, bell, menu."""
    from mozaiks_core.plugins.shell import css_variables_block, navigation_for, theme_config

    theme = theme_config()
    menu = account_menu(request)
    return {
        "mozaiks_version": __version__,
        "mozaiks_app_name": theme["app_name"] or app_manifest().get("appName") or "MozaiksCore",
        "mozaiks_scripted_model": getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted") == "scripted",
        "mozaiks_theme": theme,
        "mozaiks_theme_css": css_variables_block(theme["css_variables"]),
        "mozaiks_navigation": navigation_for(getattr(request, "user", None), menu.role if menu else None),
        "mozaiks_unread_notifications": _unread_notifications(request, menu),
        "mozaiks_account_menu": menu,
    }
