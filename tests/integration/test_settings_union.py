"""The merged settings keep one entry per folder: each app adds its own template/static dirs once."""

from __future__ import annotations

from django.conf import settings


def test_template_dirs_list_each_folder_once_with_allauth_overrides_before_app_templates() -> None:
    dirs = [str(path) for path in settings.TEMPLATES[0]["DIRS"]]
    assert len(dirs) == len(set(dirs)), f"TEMPLATES DIRS lists a folder twice: {dirs}"
    assert any(path.endswith("auth/allauth_templates") for path in dirs)
    assert any(path.endswith("mozaiks_core/templates") for path in dirs)
    assert settings.TEMPLATES[0]["APP_DIRS"] is True


def test_staticfiles_dirs_list_each_folder_once() -> None:
    dirs = [str(path) for path in settings.STATICFILES_DIRS]
    assert len(dirs) == len(set(dirs)), f"STATICFILES_DIRS lists a folder twice: {dirs}"
    assert any(path.endswith("mozaiks_core/static") for path in dirs)


def test_every_framework_app_is_installed_once() -> None:
    apps = list(settings.INSTALLED_APPS)
    assert len(apps) == len(set(apps)), f"INSTALLED_APPS repeats an app: {apps}"
    for app in ("mozaiks_core.auth", "mozaiks_core.billing", "mozaiks_core.entitlements", "mozaiks_core.plugins",
                "mozaiks_core.runtime"):
        assert app in apps
