"""App config: Entitlements."""

from __future__ import annotations

from django.apps import AppConfig


class MozaiksEntitlementsConfig(AppConfig):
    """Entitlements: features, limits and metered quotas behind one fail-closed decision API."""

    name = "mozaiks_core.entitlements"
    label = "mozaiks_entitlements"
    verbose_name = "Entitlements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Report capabilities.yaml problems; count seats and API keys and guard their additions."""
        from mozaiks_core.auth.limits import install_limit_guard
        from mozaiks_core.entitlements.capabilities import validate_capabilities_file
        from mozaiks_core.entitlements.counted import register_core_limits
        from mozaiks_core.entitlements.limits import describe_limit, enforce_limit
        from mozaiks_core.validation import register_validator

        register_validator("entitlements", validate_capabilities_file)
        register_core_limits()
        install_limit_guard(enforce_limit, describe_limit)
