"""Billing actions: sync the catalog, change plans, checkout, portal, cancel, trials, usage reports.

Views, the API, admin actions, commands and tasks call these; adapters do the provider part.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.services import is_manager
from mozaiks_core.billing.adapters import BillingError, CheckoutResult, get_adapter
from mozaiks_core.billing.catalog import Catalog, load_catalog
from mozaiks_core.billing.models import Plan, Subscription
from mozaiks_core.billing.plans import ENTITLEMENTS_CACHE_ATTR

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What a catalog sync changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_admin_edits: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{name}: {', '.join(items)}" for name, items in (
            ("created", self.created), ("updated", self.updated),
            ("kept (edited in the admin)", self.kept_admin_edits), ("deactivated", self.deactivated)) if items]
        return "; ".join(parts) or "plans already match the catalog"


@transaction.atomic
def sync_plans(catalog: Catalog | None = None, *, force: bool = False) -> SyncReport:
    """Copy the catalog file into the database.

    Plans detached from the file by an admin edit are kept unless ``force``; plans no longer in
    the file are deactivated (subscriptions still reference them). Raises CatalogError.
    """
    catalog = catalog or load_catalog()
    report = SyncReport()
    if catalog is None:
        return report
    existing = {plan.plan_id: plan for plan in Plan.objects.select_for_update()}
    for position, spec in enumerate(catalog.plans):
        values: dict[str, Any] = {
            "label": spec.label, "description": spec.description, "trial_days": spec.trial_days,
            "prices": [price.as_dict() for price in spec.prices], "features": dict(spec.features),
            "limits": dict(spec.limits), "meters": {key: meter.as_dict() for key, meter in spec.meters.items()},
            "position": position, "active": True, "managed_by_file": True,
            "is_default": spec.plan_id == catalog.default_plan_id,
        }
        plan = existing.get(spec.plan_id)
        if plan is None:
            Plan.objects.create(plan_id=spec.plan_id, **values)
            report.created.append(spec.plan_id)
            continue
        if not plan.managed_by_file and not force:
            report.kept_admin_edits.append(spec.plan_id)
            continue
        if any(getattr(plan, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(plan, name, value)
            plan.save()
            report.updated.append(spec.plan_id)
    declared = {spec.plan_id for spec in catalog.plans}
    for plan_id, plan in existing.items():
        if plan_id not in declared and plan.managed_by_file and plan.active:
            plan.active = False
            plan.is_default = False
            plan.save(update_fields=["active", "is_default", "updated_at"])
            report.deactivated.append(plan_id)
    return report


def default_plan() -> Plan | None:
    """The plan organizations without a subscription get."""
    return Plan.objects.filter(is_default=True).first()


def subscription_for(organization: Organization) -> Subscription | None:
    """The organization's subscription row, if it ever had one."""
    return Subscription.objects.select_related("plan").filter(organization=organization).first()


def effective_plan(organization: Organization) -> Plan | None:
    """The plan that applies now: the subscribed one while it grants, else the default plan."""
    subscription = subscription_for(organization)
    if subscription is not None and subscription.grants_plan:
        return subscription.plan
    return default_plan()


def purchasable_plan(plan_id: str, interval: str = "") -> Plan:
    """The active plan ``plan_id`` (and its ``interval`` price); BillingError naming what is wrong."""
    plan = Plan.objects.filter(plan_id=plan_id, active=True).first() if isinstance(plan_id, str) else None
    if plan is None:
        choices = ", ".join(Plan.objects.filter(active=True).values_list("plan_id", flat=True))
        raise BillingError("UNKNOWN_PLAN", f"There is no plan {plan_id!r} to subscribe to.",
                           f"Choose one of: {choices}.", status=404, plan_id=plan_id)
    if interval and plan.prices and plan.price_for(interval) is None:
        intervals = ", ".join(price["interval"] for price in plan.prices)
        raise BillingError("UNKNOWN_INTERVAL", f"Plan {plan_id!r} has no {interval!r} price.",
                           f"Choose one of: {intervals}.", status=422, plan_id=plan_id, interval=interval)
    return plan


def _forget(organization: Organization) -> None:
    """Drop the entitlements cached on this instance, so the new plan applies within this request."""
    organization.__dict__.pop(ENTITLEMENTS_CACHE_ATTR, None)


@transaction.atomic
def change_plan(organization: Organization, plan: Plan, *, interval: str = "", provider: str = "local") -> Subscription:
    """Switch the organization to ``plan`` at once; the first paid plan with trial days starts a trial."""
    now = timezone.now()
    subscription = Subscription.objects.select_for_update().filter(organization=organization).first()
    trial = plan.trial_days > 0 and not plan.is_default and not (subscription and subscription.trial_used)
    values: dict[str, Any] = {
        "plan": plan, "interval": interval, "provider": provider, "cancel_at_period_end": False,
        "status": Subscription.Status.TRIALING if trial else Subscription.Status.ACTIVE,
        "trial_end": now + timedelta(days=plan.trial_days) if trial else None,
        "current_period_start": now, "current_period_end": None,
    }
    if subscription is None:
        subscription = Subscription.objects.create(organization=organization, trial_used=trial, **values)
    else:
        for name, value in values.items():
            setattr(subscription, name, value)
        subscription.trial_used = subscription.trial_used or trial
        subscription.save()
    _forget(organization)
    logger.info("organization %s now on plan %s (%s)", organization.pk, plan.plan_id, subscription.status)
    return subscription


def require_manager(organization: Organization, user: Any) -> None:
    """Only owners and admins of the organization change billing, with no superuser bypass; 403 otherwise.

    The rule is ``auth.services.is_manager``; the API checks ``caller.can_manage`` first, so an API
    key without the ``manage`` scope is refused there.
    """
    if not is_manager(user, organization):
        raise BillingError("BILLING_FORBIDDEN", "Only owners and admins of the organization change billing.",
                           "Ask an owner or admin of the organization.", status=403)


def start_checkout(*, organization: Organization, user: Any, plan_id: str, interval: str = "month",
                   success_url: str, cancel_url: str) -> CheckoutResult:
    """Buy ``plan_id``: the active adapter returns a checkout URL (or applies the change at once)."""
    require_manager(organization, user)
    plan = purchasable_plan(plan_id, interval)
    if plan.is_default or not plan.prices:
        current = subscription_for(organization)
        if current is not None and current.provider_subscription_id:
            raise BillingError("CANCEL_INSTEAD", f"Plan {plan_id!r} is free; cancel the paid subscription instead.",
                               "Use the cancel button or the customer portal.", status=409)
        change_plan(organization, plan, provider="local")
        return CheckoutResult(url=success_url, applied=True)
    return get_adapter().start_checkout(organization=organization, plan=plan, interval=interval, user=user,
                                        success_url=success_url, cancel_url=cancel_url)


def open_portal(*, organization: Organization, user: Any, return_url: str) -> str:
    """The provider's customer portal (or the billing page for the local provider)."""
    require_manager(organization, user)
    return get_adapter().open_portal(organization=organization, return_url=return_url)


def cancel_subscription(*, organization: Organization, user: Any, at_period_end: bool = True) -> Subscription:
    """Cancel the organization's subscription through the adapter that manages it."""
    require_manager(organization, user)
    subscription = subscription_for(organization)
    if subscription is None or not subscription.grants_plan or subscription.plan.is_default:
        raise BillingError("NO_SUBSCRIPTION", "The organization has no paid subscription to cancel.",
                           "Nothing to do: it is on the default plan.", status=409)
    result = get_adapter(subscription.provider).cancel(organization=organization, at_period_end=at_period_end)
    _forget(organization)
    return result


def cancel_locally(organization: Organization) -> Subscription:
    """End the subscription now: the organization falls back to the default plan."""
    subscription = Subscription.objects.get(organization=organization)
    subscription.status = Subscription.Status.CANCELED
    subscription.cancel_at_period_end = False
    subscription.current_period_end = timezone.now()
    subscription.save()
    _forget(organization)
    return subscription


def expire_trials(now: Any = None) -> list[int]:
    """Downgrade every lapsed trial the provider does not bill to the default plan and tell the managers.

    Stripe subscriptions are left to Stripe (it charges or cancels and sends a webhook).
    """
    now = now or timezone.now()
    fallback = default_plan()
    expired: list[int] = []
    lapsed = Subscription.objects.filter(status=Subscription.Status.TRIALING, trial_end__lte=now,
                                         provider_subscription_id="")
    for subscription_id in lapsed.values_list("pk", flat=True):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().select_related("plan", "organization").get(
                pk=subscription_id)
            if subscription.status != Subscription.Status.TRIALING or subscription.trial_end > now:
                continue
            trial_plan = subscription.plan
            if fallback is not None:
                subscription.plan = fallback
            subscription.status = Subscription.Status.ACTIVE
            subscription.save()
            organization = subscription.organization
            transaction.on_commit(lambda org=organization, plan=trial_plan: _notify_trial_ended(org, plan))
            expired.append(subscription.pk)
    return expired


def _notify_trial_ended(organization: Organization, plan: Plan) -> None:
    emails = list(Membership.objects.filter(organization=organization,
                                            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN])
                  .exclude(user__email="").values_list("user__email", flat=True))
    if not emails:
        return
    send_mail(
        subject=f"Your {plan.label} trial has ended",
        message=(f"The {plan.label} trial of {organization.name} has ended and the organization is back on the "
                 f"free plan. Upgrade any time from the billing page."),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=emails, fail_silently=True,
    )


def report_usage_after_commit(organization_id: int, event_name: str, quantity: int, identifier: str) -> None:
    """Queue a usage report to the provider once the usage row is committed."""
    if getattr(settings, "MOZAIKS_BILLING_PROVIDER", "local") == "local":
        return
    transaction.on_commit(lambda: report_usage(organization_id, event_name, quantity, identifier))


def report_usage(organization_id: int, event_name: str, quantity: int, identifier: str) -> None:
    """Queue a usage report to the provider now (the usage row is committed already)."""
    if getattr(settings, "MOZAIKS_BILLING_PROVIDER", "local") == "local":
        return
    from mozaiks_core.billing.tasks import report_usage as report_usage_task
    from mozaiks_core.db.async_db import suspended_loop

    if suspended_loop() is not None:  # committed on the event loop's thread: an eager task must not block it
        threading.Thread(target=report_usage_task.delay, args=(organization_id, event_name, quantity, identifier),
                         name="mozaiks-usage-report", daemon=True).start()
        return
    report_usage_task.delay(organization_id, event_name, quantity, identifier)
