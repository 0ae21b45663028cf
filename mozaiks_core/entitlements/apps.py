"""App config: Entitlements."""

from django.apps import AppConfig


class MozaiksEntitlementsConfig(AppConfig):
    """Entitlements: features, limits and metered quotas behind one fail-closed decision API."""

    name = "mozaiks_core.entitlements"
    label = "mozaiks_entitlements"
    verbose_name = "Entitlements"
    default_auto_field = "django.db.models.BigAutoField"
