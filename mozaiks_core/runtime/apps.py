"""App config: Workflow runtime."""

from django.apps import AppConfig


class MozaiksRuntimeConfig(AppConfig):
    """The embedded workflow runtime: bundles executed with AG2, streamed over Channels."""

    name = "mozaiks_core.runtime"
    label = "mozaiks_runtime"
    verbose_name = "Workflow runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Serve the MozaiksAI import path for tool code and report bundle problems in ``mozaiks validate``."""
        from mozaiks_core.runtime import mozaiksai_shim
        from mozaiks_core.runtime.bundles.registry import validate_workflows
        from mozaiks_core.validation import register_validator

        mozaiksai_shim.install()
        register_validator("workflows", validate_workflows)
