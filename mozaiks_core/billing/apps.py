"""App config: Billing."""

from django.apps import AppConfig


class MozaiksBillingConfig(AppConfig):
    """Billing: plans, subscriptions, provider adapters and webhooks."""

    name = "mozaiks_core.billing"
    label = "mozaiks_billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"
