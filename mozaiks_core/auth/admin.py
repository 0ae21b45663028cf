"""Admin: users with their organizations, organizations with members, invitations, API keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from mozaiks_core.auth.models import APIKey, Invitation, Membership, Organization

# Changelists of other apps linked from an organization when those apps register them.
_RELATED_CHANGELISTS = [
    ("Subscriptions", "admin:mozaiks_billing_subscription_changelist"),
    ("Usage", "admin:mozaiks_entitlements_usageevent_changelist"),
]


class MembershipInline(admin.TabularInline):
    """Members of an organization, edited in place."""

    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class UserMembershipInline(admin.TabularInline):
    """The organizations a user belongs to, shown on the user page."""

    model = Membership
    extra = 0
    raw_id_fields = ["organization"]
    fields = ["organization", "role", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "organization membership"


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations with their members inline and links to billing and usage."""

    list_display = ["name", "slug", "personal", "member_count", "created_at"]
    list_filter = ["personal", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["related_links"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        """Count members in the same query as the list."""
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj: Any) -> int:
        """How many members the organization has."""
        return getattr(obj, "_members", obj.memberships.count())

    @admin.display(description="billing and usage")
    def related_links(self, obj: Organization) -> str:
        """Links to the billing and usage admin pages filtered to this organization, when they exist."""
        links = []
        for label, url_name in _RELATED_CHANGELISTS:
            try:
                links.append((f"{reverse(url_name)}?organization__id__exact={obj.pk}", label))
            except NoReverseMatch:
                continue
        if not links:
            return "No billing or usage admin is installed."
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations: who was invited where, by whom, and what became of it (tokens are never shown)."""

    list_display = ["email", "organization", "role", "status_label", "invited_by", "expires_at"]
    list_filter = ["role", "created_at", "expires_at"]
    search_fields = ["email", "organization__name", "organization__slug"]
    raw_id_fields = ["organization", "invited_by", "accepted_by"]
    readonly_fields = ["created_at", "sent_at", "accepted_at", "accepted_by"]  # never token_hash
    actions = ["revoke"]

    @admin.display(description="status")
    def status_label(self, obj: Invitation) -> str:
        """Pending, accepted, revoked or expired."""
        return obj.status

    @admin.action(description="Revoke selected invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        """Stop the selected links from working."""
        count = queryset.filter(accepted_at=None, revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} invitation(s).", messages.SUCCESS)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """API keys by prefix (secrets are never stored); revoke with the action."""

    list_display = ["name", "prefix", "organization", "status_label", "created_by", "last_used_at", "expires_at"]
    list_filter = ["created_at", "last_used_at"]
    search_fields = ["name", "prefix", "organization__name", "organization__slug", "created_by__email"]
    raw_id_fields = ["organization", "created_by"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]  # never key_hash
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Keys are created where the secret can be shown once: the API keys page or the command."""
        return False

    @admin.display(description="status")
    def status_label(self, obj: APIKey) -> str:
        """Active, expired or revoked."""
        return obj.status

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        """Revoke the selected keys at once."""
        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class MozaiksUserAdmin(UserAdmin):
    """Django's user admin plus the user's organizations."""

    inlines = [*UserAdmin.inlines, UserMembershipInline]
    list_display = ["email", "username", "organizations", "is_active", "is_staff", "date_joined"]
    list_filter = [*UserAdmin.list_filter, "memberships__role"]
    search_fields = ["email", "username", "memberships__organization__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Fetch memberships with the page to avoid one query per row."""
        return super().get_queryset(request).prefetch_related("memberships__organization")

    @admin.display(description="organizations")
    def organizations(self, obj: Any) -> str:
        """The user's organizations with roles."""
        return format_html_join(
            ", ", "{} ({})", ((m.organization.name, m.role) for m in obj.memberships.all())
        ) or format_html("{}", "—")
