"""App config of the audit pack."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Activity log of domain events (label ``audit``, the module id)."""

    name = "mozaiks_core.packs.audit"
    label = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"
