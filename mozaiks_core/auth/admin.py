"""Admin for organizations and memberships."""

from __future__ import annotations

from django.contrib import admin

from mozaiks_core.auth.models import Membership, Organization


class MembershipInline(admin.TabularInline):
    """Members of an organization, edited in place."""

    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations with their members inline."""

    list_display = ["name", "slug", "personal", "created_at"]
    list_filter = ["personal"]
    search_fields = ["name", "slug", "memberships__user__email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
