"""App config: the plugin host. Registers checks and the validator, verifies handlers and plugin settings."""

from __future__ import annotations

from django.apps import AppConfig


class MozaiksPluginsConfig(AppConfig):
    """The plugin host: app workspace, modules, capability packs and domain events."""

    name = "mozaiks_core.plugins"
    label = "mozaiks_plugins"
    verbose_name = "Plugins"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Fail fast on missing plugin settings; verify module handlers; hook checks, sweep and workers."""
        from django.conf import settings
        from django.core import checks

        from mozaiks_core.celery import register_periodic_task
        from mozaiks_core.plugins import workers
        from mozaiks_core.plugins.checks import workspace_check
        from mozaiks_core.plugins.limits import register_module_limits
        from mozaiks_core.plugins.module_admin import register_declared_admins
        from mozaiks_core.plugins.plugin_host import check_required_settings
        from mozaiks_core.plugins.registry import all_problems, get_workspace, loaded_plugins, verify_handlers
        from mozaiks_core.validation import register_validator

        check_required_settings(loaded_plugins(), getattr(settings, "MOZAIKS_PLUGINS_CONFIG", {}) or {})
        verify_handlers()
        register_declared_admins(get_workspace())
        register_module_limits(get_workspace().modules)
        checks.register(workspace_check, "mozaiks")
        register_validator("workspace", all_problems)
        register_periodic_task("mozaiks-outbox-sweep", "mozaiks.plugins.sweep_outbox",
                               float(getattr(settings, "MOZAIKS_OUTBOX_SWEEP_SECONDS", 30)))
        workers.connect_startup_services()
        from mozaiks_core.plugins.admin_brand import brand_admin_site

        brand_admin_site()
