"""Applying Stripe events to subscriptions, in any delivery order.

Each subscription remembers the creation time of the newest event applied to it
(``provider_event_at``); an older event is skipped, so a late ``customer.subscription.updated``
never moves a canceled subscription back to active.
"""

from __future__ import annotations

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


def apply_stripe_event(event: WebhookEvent) -> str:
    """Apply one stored event; returns the status it ends in (processed, stale, ignored, unknown_customer)."""
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
