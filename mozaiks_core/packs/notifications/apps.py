"""App config of the notifications pack."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """In-app notifications (label ``notifications``, the module id)."""

    name = "mozaiks_core.packs.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"
