"""App config: Plugins."""

from django.apps import AppConfig


class MozaiksPluginsConfig(AppConfig):
    """The plugin host: app workspace, modules, capability packs and domain events."""

    name = "mozaiks_core.plugins"
    label = "mozaiks_plugins"
    verbose_name = "Plugins"
    default_auto_field = "django.db.models.BigAutoField"
