"""App config: Workflow runtime."""

from django.apps import AppConfig


class MozaiksRuntimeConfig(AppConfig):
    """The embedded workflow runtime: bundles executed with AG2, streamed over Channels."""

    name = "mozaiks_core.runtime"
    label = "mozaiks_runtime"
    verbose_name = "Workflow runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Serve the MozaiksAI import path for tool code, report bundle problems in ``mozaiks validate``,
        register the Celery tasks (the run executor sends ``run_chat`` by name), name the workflows
        for the capability checks, and close sockets whose credentials die."""
        from mozaiks_core.auth.liveness import credentials_changed
        from mozaiks_core.entitlements.capabilities import provide_workflow_names
        from mozaiks_core.runtime import tasks  # noqa: F401
        from mozaiks_core.runtime.bundles import get_registry
        from mozaiks_core.runtime.bundles.registry import validate_workflow_root, validate_workflows
        from mozaiks_core.runtime.engine import mozaiksai_shim
        from mozaiks_core.runtime.revocations import on_credentials_changed
        from mozaiks_core.validation import register_validator, register_workspace_validator

        mozaiksai_shim.install()
        register_validator("workflows", validate_workflows)
        register_workspace_validator("workflows", validate_workflow_root)
        provide_workflow_names(lambda: set(get_registry().bundles) | set(get_registry().errors))
        credentials_changed.connect(on_credentials_changed, dispatch_uid="mozaiks_runtime_credentials_changed")
