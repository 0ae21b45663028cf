"""Admin: per-organization overrides, the usage ledger and the usage counters."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from mozaiks_core.entitlements.models import EntitlementOverride, UsageCounter, UsageEvent


def catalog_key_choices() -> list[tuple[str, str]]:
    """Every key a plan declares, labelled as customers read it ("Seats (limit: members)")."""
    from mozaiks_core.billing.catalog import key_spec
    from mozaiks_core.billing.plans import plan_index

    kinds = plan_index().key_kinds
    return [(key, f"{key_spec(key, kind).label} ({kind}: {key})") for key, kind in sorted(kinds.items())]


class EntitlementOverrideForm(forms.ModelForm):
    """The key is chosen from the catalog, so a typo such as ``tokens_montly`` cannot be saved."""

    key = forms.ChoiceField(choices=catalog_key_choices, help_text="An entitlement the plans declare.")

    class Meta:
        model = EntitlementOverride
        fields = ["organization", "key", "granted", "limit", "unlimited", "enforcement", "expires_at", "note"]


@admin.register(EntitlementOverride)
class EntitlementOverrideAdmin(admin.ModelAdmin):
    """Grant, revoke or resize one entitlement for one organization."""

    form = EntitlementOverrideForm

    list_display = ["organization", "key", "granted", "limit", "unlimited", "enforcement", "expires_at", "note"]
    list_filter = ["key", "granted", "unlimited"]
    search_fields = ["organization__name", "organization__slug", "key", "note"]
    raw_id_fields = ["organization"]


@admin.register(UsageEvent)
class UsageEventAdmin(admin.ModelAdmin):
    """The usage ledger (read-only), filterable by organization, meter and period."""

    list_display = ["created_at", "organization", "meter", "quantity", "granted", "period_start", "transaction_id"]
    list_filter = ["meter", "granted", "period_start", "organization"]
    search_fields = ["transaction_id", "organization__name", "organization__slug"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]
    readonly_fields = [field.name for field in UsageEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """The ledger is written by metering only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: UsageEvent | None = None) -> bool:
        """Ledger rows are immutable."""
        return False


@admin.register(UsageCounter)
class UsageCounterAdmin(admin.ModelAdmin):
    """Per-period counters, filterable by organization, meter and period."""

    list_display = ["organization", "meter", "period_start", "used", "updated_at"]
    list_filter = ["meter", "period_start", "organization"]
    search_fields = ["organization__name", "organization__slug"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "meter", "period_start", "updated_at"]
