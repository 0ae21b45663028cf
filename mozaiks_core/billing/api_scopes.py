"""Data scopes of the billing API (``/api/billing/...``), for the org-scoping check.

The plan catalog is public; the subscription is the caller organization's data; checkout,
portal and cancel change it and are for owners and admins only. Each factory puts org A on a
plan of its own, whose label is the marker only org A's answers may contain.
"""

from __future__ import annotations

import uuid
from typing import Any

from mozaiks_core.auth.models import Organization
from mozaiks_core.auth.scoping import PUBLIC, DataScope, ScopedCall, org_scope
from mozaiks_core.billing import services
from mozaiks_core.billing.models import Plan


def _own_plan(label_prefix: str) -> Plan:
    """A paid, active plan that no other organization is on (its label is the marker)."""
    suffix = uuid.uuid4().hex[:10]
    return Plan.objects.create(
        plan_id=f"scope-{suffix}", label=f"{label_prefix} {suffix}", position=900,
        prices=[{"interval": "month", "amount": 5, "currency": "usd", "provider_price_id": f"price_{suffix}"}],
        features={"chat": True}, limits={}, meters={},
    )


def subscribed_organization(organization: Organization, owner: Any) -> ScopedCall:
    """Org A subscribed to a plan of its own: the subscription answer names that plan."""
    plan = _own_plan("Scoped plan")
    services.change_plan(organization, plan, interval="month")
    return ScopedCall(marker=plan.label)


def checkout_request(organization: Organization, owner: Any) -> ScopedCall:
    """Buying a paid plan (the local adapter applies it at once)."""
    plan = _own_plan("Checkout plan")
    return ScopedCall(json={"plan_id": plan.plan_id, "interval": "month"})


def portal_request(organization: Organization, owner: Any) -> ScopedCall:
    """Opening the customer portal of a subscribed organization."""
    services.change_plan(organization, _own_plan("Portal plan"), interval="month")
    return ScopedCall()


def cancellable_subscription(organization: Organization, owner: Any) -> ScopedCall:
    """A paid subscription that can be cancelled."""
    services.change_plan(organization, _own_plan("Cancel plan"), interval="month")
    return ScopedCall()


API_SCOPES: dict[str, DataScope] = {
    "mozaiks_core.billing.api.list_plans": PUBLIC,
    "mozaiks_core.billing.api.subscription": org_scope(subscribed_organization),
    "mozaiks_core.billing.api.checkout": org_scope(checkout_request, manage=True),
    "mozaiks_core.billing.api.portal": org_scope(portal_request, manage=True),
    "mozaiks_core.billing.api.cancel": org_scope(cancellable_subscription, manage=True),
}
