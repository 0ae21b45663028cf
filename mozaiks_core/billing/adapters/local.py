"""The ``local`` provider: no payments; plan changes apply at once (free apps, self-hosting, dev)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.adapters.base import (
    BillingAdapter,
    CheckoutResult,
    ParsedWebhook,
    WebhookSignatureError,
)
from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent


class LocalAdapter(BillingAdapter):
    """Applies every change immediately in the database; operators can also assign plans in the admin."""

    name = "local"

    def start_checkout(self, *, organization: Organization, plan: Plan, interval: str, user: Any,
                       success_url: str, cancel_url: str) -> CheckoutResult:
        """Switch plans now and send the buyer straight to ``success_url``."""
        from mozaiks_core.billing.services import change_plan

        change_plan(organization, plan, interval=interval, provider=self.name)
        return CheckoutResult(url=success_url, applied=True)

    def open_portal(self, *, organization: Organization, return_url: str) -> str:
        """There is no provider portal: the billing page is where plans are managed."""
        return reverse("mozaiks_billing:overview")

    def cancel(self, *, organization: Organization, at_period_end: bool = True) -> Subscription:
        """Without billing periods a cancellation applies at once."""
        from mozaiks_core.billing.services import cancel_locally

        return cancel_locally(organization)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """The local provider sends no webhooks."""
        raise WebhookSignatureError("the local billing provider receives no webhooks")

    def apply_webhook(self, event: WebhookEvent) -> str:
        """Nothing to apply."""
        return WebhookEvent.Status.IGNORED

    def report_usage(self, *, organization: Organization, event_name: str, quantity: int, identifier: str) -> bool:
        """Usage stays in the local ledger."""
        return False

    def sync(self, *, organization: Organization) -> Subscription | None:
        """The database is the source of truth."""
        return Subscription.objects.filter(organization=organization).first()
