"""Admin: plans (validated JSON), subscriptions (assign plans, trials) and webhook events (replay)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from mozaiks_core.billing.adapters import BillingError, get_adapter
from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent
from mozaiks_core.billing.webhooks import replay


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans of the catalog; saving here detaches a plan from subscriptions.yaml."""

    list_display = ["plan_id", "label", "is_default", "active", "trial_days", "managed_by_file", "updated_at"]
    list_filter = ["active", "is_default", "managed_by_file"]
    search_fields = ["plan_id", "label"]
    readonly_fields = ["updated_at"]

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        """An admin edit wins over the file until ``sync_plans --force``."""
        obj.managed_by_file = False
        super().save_model(request, obj, form, change)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """One subscription per organization; with the local provider, assigning a plan here applies at once."""

    list_display = ["organization", "plan", "status", "trial_end", "current_period_end", "cancel_at_period_end",
                    "provider", "updated_at"]
    list_filter = ["status", "provider", "plan", "cancel_at_period_end", "trial_end"]
    search_fields = ["organization__name", "organization__slug", "provider_customer_id", "provider_subscription_id"]
    list_select_related = ["organization", "plan"]
    raw_id_fields = ["organization"]
    readonly_fields = ["provider_event_at", "created_at", "updated_at"]
    actions = ["sync_from_provider"]

    @admin.action(description="Sync the selected subscriptions from their provider")
    def sync_from_provider(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        """Re-read each subscription from its provider (Stripe) and apply it."""
        synced, failed = 0, []
        for subscription in queryset.select_related("organization"):
            try:
                get_adapter(subscription.provider).sync(organization=subscription.organization)
                synced += 1
            except BillingError as exc:
                failed.append(f"{subscription.organization}: {exc.message}")
        self.message_user(request, f"Synced {synced} subscription(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Every delivery; failed or unknown-customer events can be replayed."""

    list_display = ["event_id", "type", "status", "flagged", "attempts", "deliveries", "organization", "received_at"]
    list_filter = ["status", "flagged", "type", "provider"]
    search_fields = ["event_id", "type", "error"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
    actions = ["replay_events"]

    @admin.action(description="Replay the selected events")
    def replay_events(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        """Apply the events again (each still applies at most once per state: older events stay skipped)."""
        outcomes: dict[str, int] = {}
        for event_pk in queryset.values_list("pk", flat=True):
            status = replay(event_pk)
            outcomes[status] = outcomes.get(status, 0) + 1
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.message_user(request, f"Replayed: {summary}.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Events come from the provider only."""
        return False
