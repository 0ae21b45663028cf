"""App config: Workflow runtime."""

from django.apps import AppConfig


class MozaiksRuntimeConfig(AppConfig):
    """The embedded workflow runtime: bundles executed with AG2, streamed over Channels."""

    name = "mozaiks_core.runtime"
    label = "mozaiks_runtime"
    verbose_name = "Workflow runtime"
    default_auto_field = "django.db.models.BigAutoField"
