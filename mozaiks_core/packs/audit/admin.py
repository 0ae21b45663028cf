"""Admin of the audit pack: the activity log, filterable and read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mozaiks_core.packs.audit.models import ActivityEntry


@admin.register(ActivityEntry)
class ActivityEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is a record, not something to edit."""

    list_display = ("occurred_at", "event_type", "organization", "actor_label", "subject_label")
    list_filter = ("event_type", "module_id", "organization")
    search_fields = ("event_type", "actor_label", "subject_label", "correlation_id")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
