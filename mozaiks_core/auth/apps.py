"""App config for accounts and organizations."""

from django.apps import AppConfig


class MozaiksAuthConfig(AppConfig):
    """Organizations, memberships, API keys and execution tokens (allauth does accounts)."""

    name = "mozaiks_core.auth"
    label = "mozaiks_auth"
    verbose_name = "Accounts and organizations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mozaiks_core.auth import checks, signals  # noqa: F401  (registers checks, connects receivers)
