"""Admin of the notifications pack."""

from django.contrib import admin

from mozaiks_core.packs.notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Every notification, filterable by category, organization and read state."""

    list_display = ("title", "user", "organization", "category", "created_at", "read_at")
    list_filter = ("category", "organization", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__email")
    raw_id_fields = ("user", "organization")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Per-user category switches."""

    list_display = ("user", "category", "enabled")
    list_filter = ("enabled", "category")
    raw_id_fields = ("user",)
