"""Admin of the tasks module."""

from django.contrib import admin

from .models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Tasks of every organization."""

    list_display = ("title", "organization", "done", "created_at")
    list_filter = ("done", "organization")
    search_fields = ("title",)
