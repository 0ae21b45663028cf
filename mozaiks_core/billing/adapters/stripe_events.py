"""Applying Stripe events to subscriptions, in any delivery order.

Each subscription remembers the creation time of the newest event applied to it
(``provider_event_at``). Three rules keep a late or reordered event from undoing a newer state:

- an event created strictly before the last applied one is stale and skipped;
- a canceled subscription is terminal: Stripe never reactivates one, so no later event about
  the same Stripe subscription moves it out of ``canceled`` (whatever its timestamp: Stripe's
  ``created`` has one-second resolution, so a delete and an update can share one);
- an event whose order cannot be told (same second as the last applied one, or no ``created``)
  is treated as a notice: the subscription's current state is re-read from Stripe and applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent

STATUS_MAP = {
    "trialing": Subscription.Status.TRIALING,
    "active": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
    "incomplete": Subscription.Status.INCOMPLETE,
    "paused": Subscription.Status.INCOMPLETE,
}
SUBSCRIPTION_EVENTS = {"customer.subscription.created", "customer.subscription.updated",
                       "customer.subscription.deleted"}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_failed"}


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int) else None


def _plan_for(obj: dict[str, Any]) -> Plan | None:
    """The plan a Stripe object names: ``metadata.plan_id``, else the plan owning its price id."""
    plan_id = (obj.get("metadata") or {}).get("plan_id")
    if plan_id:
        plan = Plan.objects.filter(plan_id=plan_id).order_by().first()
        if plan is not None:
            return plan
    for item in (obj.get("items") or {}).get("data") or []:
        price_id = (item.get("price") or {}).get("id")
        if price_id:
            for plan in Plan.objects.all():
                if any(price.get("provider_price_id") == price_id for price in plan.prices):
                    return plan
    return None


def apply_subscription_object(subscription: Subscription, obj: dict[str, Any], plan: Plan | None = None) -> None:
    """Copy a Stripe subscription object onto ``subscription`` (not saved); ``plan`` if already resolved."""
    status = STATUS_MAP.get(obj.get("status", ""), Subscription.Status.INCOMPLETE)
    subscription.status = status
    plan = plan or _plan_for(obj)
    if plan is not None:
        subscription.plan = plan
    items = (obj.get("items") or {}).get("data") or [{}]
    period_source = obj if obj.get("current_period_end") else items[0]
    subscription.current_period_start = _timestamp(period_source.get("current_period_start"))
    subscription.current_period_end = _timestamp(period_source.get("current_period_end"))
    subscription.trial_end = _timestamp(obj.get("trial_end"))
    subscription.trial_used = subscription.trial_used or status == Subscription.Status.TRIALING
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    subscription.provider = "stripe"
    if obj.get("id"):
        subscription.provider_subscription_id = obj["id"]
    if isinstance(obj.get("customer"), str):
        subscription.provider_customer_id = obj["customer"]


def _locked_subscription(obj: dict[str, Any]) -> tuple[int | None, Subscription | None]:
    """The organization id an event concerns and its subscription row, locked (None, None when unknown)."""
    metadata = obj.get("metadata") or {}
    org_id = str(metadata.get("organization_id") or obj.get("client_reference_id") or "")
    locked = Subscription.objects.select_for_update()
    if org_id.isdigit():
        subscription = locked.filter(organization_id=int(org_id)).first()
        if subscription is not None:
            return subscription.organization_id, subscription
        if Organization.objects.filter(pk=int(org_id)).exists():
            return int(org_id), None
    customer = obj.get("customer")
    subscription_id = obj.get("subscription") or (obj.get("id") if obj.get("object") == "subscription" else None)
    for field, value in (("provider_subscription_id", subscription_id), ("provider_customer_id", customer)):
        if isinstance(value, str) and value:
            subscription = locked.filter(**{field: value}).first()
            if subscription is not None:
                return subscription.organization_id, subscription
    return None, None


def _invoice_subscription_id(invoice: dict[str, Any]) -> str:
    value = invoice.get("subscription")
    if isinstance(value, str):
        return value
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    return details.get("subscription") or ""


SubscriptionReader = Callable[[str], dict[str, Any]]  # Stripe subscription id -> its current object


def _event_subscription_id(event_type: str, obj: dict[str, Any]) -> str:
    if event_type in SUBSCRIPTION_EVENTS:
        return str(obj.get("id") or "")
    return str(obj.get("subscription") or "")


def _terminal(subscription: Subscription, event_type: str, obj: dict[str, Any]) -> bool:
    """The event concerns a Stripe subscription that is already canceled here (and cannot come back)."""
    if subscription.pk is None or subscription.status != Subscription.Status.CANCELED:
        return False
    if event_type == "customer.subscription.deleted":
        return False
    subscription_id = _event_subscription_id(event_type, obj)
    return bool(subscription_id) and subscription_id == subscription.provider_subscription_id


def apply_stripe_event(event: WebhookEvent, read_subscription: SubscriptionReader | None = None) -> str:
    """Apply one stored event; returns the status it ends in (processed, stale, ignored, unknown_customer).

    ``read_subscription`` fetches a subscription's current state from Stripe; it is used when the
    event's order relative to the last applied one cannot be told.
    """
    obj = ((event.payload.get("data") or {}).get("object")) or {}
    if event.type not in SUBSCRIPTION_EVENTS | INVOICE_EVENTS | {"checkout.session.completed"}:
        return WebhookEvent.Status.IGNORED
    if event.type in INVOICE_EVENTS:
        obj = {**obj, "subscription": _invoice_subscription_id(obj)}
    with transaction.atomic(savepoint=False):
        organization_id, subscription = _locked_subscription(obj)
        if organization_id is None:
            return WebhookEvent.Status.UNKNOWN_CUSTOMER
        event.organization_id = organization_id
        if event.type == "checkout.session.completed":
            return _link_checkout(organization_id, subscription, obj)
        plan = _plan_for(obj) if event.type in SUBSCRIPTION_EVENTS else None
        if subscription is None:
            if plan is None:
                return WebhookEvent.Status.UNKNOWN_CUSTOMER
            subscription = Subscription(organization_id=organization_id, plan=plan, provider="stripe")
        created = event.event_created_at
        if subscription.provider_event_at and created and created < subscription.provider_event_at:
            return WebhookEvent.Status.SKIPPED_STALE
        if _terminal(subscription, event.type, obj):
            return WebhookEvent.Status.SKIPPED_STALE
        ambiguous = subscription.provider_event_at is not None and (
            created is None or created == subscription.provider_event_at)
        subscription_id = _event_subscription_id(event.type, obj)
        if ambiguous and read_subscription is not None and subscription_id:
            current = read_subscription(subscription_id)
            apply_subscription_object(subscription, current)
            subscription.save()
            return WebhookEvent.Status.PROCESSED
        if event.type in SUBSCRIPTION_EVENTS:
            apply_subscription_object(subscription, obj, plan)
            if event.type == "customer.subscription.deleted":
                subscription.status = Subscription.Status.CANCELED
        elif event.type == "invoice.payment_failed":
            if subscription.status != Subscription.Status.CANCELED:
                subscription.status = Subscription.Status.PAST_DUE
        elif subscription.status in {Subscription.Status.PAST_DUE, Subscription.Status.INCOMPLETE}:
            subscription.status = Subscription.Status.ACTIVE
        if created:
            subscription.provider_event_at = created
        subscription.save()
    return WebhookEvent.Status.PROCESSED


def _link_checkout(organization_id: int, subscription: Subscription | None, session: dict[str, Any]) -> str:
    """A completed checkout links the Stripe customer and subscription; the subscription events set state."""
    if subscription is None:
        plan = _plan_for(session)
        if plan is None:
            return WebhookEvent.Status.UNKNOWN_CUSTOMER
        subscription = Subscription(organization_id=organization_id, plan=plan, provider="stripe",
                                    status=Subscription.Status.INCOMPLETE)
    if isinstance(session.get("customer"), str):
        subscription.provider_customer_id = session["customer"]
    if isinstance(session.get("subscription"), str) and not subscription.provider_subscription_id:
        subscription.provider_subscription_id = session["subscription"]
    subscription.provider = "stripe"
    subscription.save()
    return WebhookEvent.Status.PROCESSED
