"""App config of the settings pack."""

from django.apps import AppConfig


class SettingsPackConfig(AppConfig):
    """Stored preferences (label ``settings``, the module id)."""

    name = "mozaiks_core.packs.settings"
    label = "settings"
    verbose_name = "Settings"
    default_auto_field = "django.db.models.BigAutoField"
