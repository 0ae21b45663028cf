"""The ``stripe`` provider through the official SDK's ``StripeClient``.

Checkout Sessions in subscription mode (with the plan's trial on the first subscription), the
Customer Portal, cancellation, Billing Meter Events for usage, and verified webhooks. Every
write call carries an idempotency key. Tests inject a ``stripe.HTTPClient`` via ``http_client``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.adapters.base import (
    BillingAdapter,
    BillingError,
    CheckoutResult,
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
)
from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent
from mozaiks_core.parsing import DocumentTooComplex, loads_json

SIGNATURE_TOLERANCE_SECONDS = 300


class StripeAdapter(BillingAdapter):
    """Stripe Billing: hosted checkout and portal, subscription webhooks, meter events."""

    name = "stripe"
    default_http_client: stripe.HTTPClient | None = None

    def __init__(self, *, api_key: str = "", webhook_secret: str = "",
                 http_client: stripe.HTTPClient | None = None) -> None:
        self.api_key = api_key or getattr(settings, "STRIPE_SECRET_KEY", "")
        self.webhook_secret = webhook_secret or getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
        self.http_client = http_client or self.default_http_client

    @property
    def client(self) -> stripe.StripeClient:
        """A StripeClient on the configured key (and injected HTTP client)."""
        if not self.api_key:
            raise BillingError("STRIPE_NOT_CONFIGURED", "Stripe is not configured.",
                               "Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.", status=503)
        return stripe.StripeClient(self.api_key, http_client=self.http_client, max_network_retries=2)

    def _call(self, action: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except stripe.StripeError as exc:
            raise BillingError("PROVIDER_ERROR", f"Stripe refused to {action}: {exc.user_message or exc}",
                               "Try again; if it persists check the Stripe dashboard.", status=502) from exc

    def ensure_customer(self, organization: Organization, subscription: Subscription) -> str:
        """The organization's Stripe customer id, created once (idempotent per organization)."""
        if subscription.provider_customer_id:
            return subscription.provider_customer_id
        customer = self._call("create the customer", self.client.v1.customers.create,
                              {"name": organization.name, "metadata": {"organization_id": str(organization.pk)}},
                              {"idempotency_key": f"mozaiks-customer-{organization.pk}"})
        Subscription.objects.filter(pk=subscription.pk).update(provider_customer_id=customer.id)
        subscription.provider_customer_id = customer.id
        return customer.id

    def _subscription_row(self, organization: Organization, plan: Plan) -> Subscription:
        subscription = Subscription.objects.filter(organization=organization).first()
        if subscription is None:
            from mozaiks_core.billing.services import default_plan

            subscription = Subscription.objects.create(organization=organization, plan=default_plan() or plan,
                                                       provider=self.name)
        return subscription

    def start_checkout(self, *, organization: Organization, plan: Plan, interval: str, user: Any,
                       success_url: str, cancel_url: str) -> CheckoutResult:
        """A Checkout Session in subscription mode; the plan's trial applies to a first subscription."""
        price = plan.price_for(interval)
        if price is None or not price.get("provider_price_id"):
            raise BillingError("PRICE_NOT_CONFIGURED", f"Plan {plan.plan_id!r} has no Stripe price for {interval!r}.",
                               "Set provider_price_id on that price in subscriptions.yaml (or the admin).",
                               status=422, plan_id=plan.plan_id, interval=interval)
        subscription = self._subscription_row(organization, plan)
        if subscription.provider_subscription_id and subscription.grants_plan and not subscription.plan.is_default:
            raise BillingError("ALREADY_SUBSCRIBED",
                               f"The organization already pays for {subscription.plan.label} through Stripe.",
                               "Change or cancel that plan with 'Manage billing' (the customer portal).", status=409)
        customer = self.ensure_customer(organization, subscription)
        metadata = {"organization_id": str(organization.pk), "plan_id": plan.plan_id}
        subscription_data: dict[str, Any] = {"metadata": metadata}
        if plan.trial_days and not subscription.trial_used:
            subscription_data["trial_period_days"] = plan.trial_days
        params = {
            "mode": "subscription", "customer": customer, "client_reference_id": str(organization.pk),
            "line_items": [{"price": price["provider_price_id"], "quantity": 1}],
            "success_url": success_url, "cancel_url": cancel_url, "metadata": metadata,
            "subscription_data": subscription_data,
        }
        session = self._call("start checkout", self.client.v1.checkout.sessions.create, params,
                             {"idempotency_key": f"mozaiks-checkout-{organization.pk}-{uuid.uuid4()}"})
        return CheckoutResult(url=session.url, applied=False, session_id=session.id)

    def open_portal(self, *, organization: Organization, return_url: str) -> str:
        """A Customer Portal session for the organization's customer."""
        subscription = Subscription.objects.filter(organization=organization).first()
        if subscription is None or not subscription.provider_customer_id:
            raise BillingError("NO_CUSTOMER", "The organization has not paid through Stripe yet.",
                               "Subscribe to a plan first; the portal manages existing subscriptions.", status=409)
        session = self._call("open the portal", self.client.v1.billing_portal.sessions.create,
                             {"customer": subscription.provider_customer_id, "return_url": return_url},
                             {"idempotency_key": f"mozaiks-portal-{organization.pk}-{uuid.uuid4()}"})
        return session.url

    def cancel(self, *, organization: Organization, at_period_end: bool = True) -> Subscription:
        """Cancel at the period's end (default) or now; the webhook that follows confirms it."""
        subscription = Subscription.objects.get(organization=organization)
        if not subscription.provider_subscription_id:
            from mozaiks_core.billing.services import cancel_locally

            return cancel_locally(organization)
        key = f"mozaiks-cancel-{subscription.provider_subscription_id}-{uuid.uuid4()}"
        if at_period_end:
            remote = self._call("cancel", self.client.v1.subscriptions.update, subscription.provider_subscription_id,
                                {"cancel_at_period_end": True}, {"idempotency_key": key})
        else:
            remote = self._call("cancel", self.client.v1.subscriptions.cancel, subscription.provider_subscription_id,
                                None, {"idempotency_key": key})
        from mozaiks_core.billing.adapters.stripe_events import apply_subscription_object

        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
            apply_subscription_object(locked, remote.to_dict() if hasattr(remote, "to_dict") else dict(remote))
            locked.save()
        return locked

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """Verify ``Stripe-Signature`` (300 s tolerance) and parse the event."""
        if not self.webhook_secret:
            raise WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not set")
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature") or ""
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature, self.webhook_secret, SIGNATURE_TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise WebhookSignatureError(str(exc)) from exc
        try:
            data = loads_json(text, "The webhook body")
        except DocumentTooComplex as exc:
            raise WebhookPayloadError(exc.message) from exc
        except ValueError as exc:
            raise WebhookPayloadError(f"the body is not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise WebhookPayloadError("the payload is not a Stripe event (id and type missing)")
        created = data.get("created")
        try:
            when = datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else None
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookPayloadError(f"'created' is not a Unix timestamp: {created}") from exc
        return ParsedWebhook(event_id=data["id"][:255], type=data["type"][:120], created=when, payload=data)

    def apply_webhook(self, event: WebhookEvent) -> str:
        """Apply a stored Stripe event to the subscription it concerns (re-read from Stripe when its order
        relative to the last applied event cannot be told)."""
        from mozaiks_core.billing.adapters.stripe_events import apply_stripe_event

        return apply_stripe_event(event, self.read_subscription)

    def read_subscription(self, subscription_id: str) -> dict[str, Any]:
        """The subscription's current state at Stripe."""
        remote = self._call("read the subscription", self.client.v1.subscriptions.retrieve, subscription_id)
        return remote.to_dict()

    def report_usage(self, *, organization: Organization, event_name: str, quantity: int, identifier: str) -> bool:
        """A Billing Meter Event for the organization's customer (``identifier`` dedupes at Stripe too)."""
        customer = (Subscription.objects.filter(organization=organization)
                    .values_list("provider_customer_id", flat=True).first())
        if not customer:
            return False
        self._call("record usage", self.client.v1.billing.meter_events.create,
                   {"event_name": event_name, "identifier": identifier[:100],
                    "payload": {"stripe_customer_id": customer, "value": str(quantity)}},
                   {"idempotency_key": f"mozaiks-meter-{identifier}"[:255]})
        return True

    def sync(self, *, organization: Organization) -> Subscription | None:
        """Re-read the subscription from Stripe and apply it."""
        subscription = Subscription.objects.filter(organization=organization).first()
        if subscription is None or not subscription.provider_subscription_id:
            return subscription
        remote = self._call("read the subscription", self.client.v1.subscriptions.retrieve,
                            subscription.provider_subscription_id)
        from mozaiks_core.billing.adapters.stripe_events import apply_subscription_object

        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
            apply_subscription_object(locked, remote.to_dict())
            locked.save()
        return locked
