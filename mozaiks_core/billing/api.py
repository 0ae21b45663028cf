"""Billing API: plans, the organization's subscription, checkout, portal and cancel (``/api/billing/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from ninja import Router, Schema

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.security import api_auth
from mozaiks_core.billing import services
from mozaiks_core.billing.adapters import BillingError
from mozaiks_core.billing.models import Plan

router = Router(tags=["billing"])


class PlanOut(Schema):
    """A plan of the catalog."""

    plan_id: str
    label: str
    description: str
    trial_days: int
    prices: list[dict[str, Any]]
    features: dict[str, bool]
    limits: dict[str, int | None]
    meters: dict[str, dict[str, Any]]
    is_default: bool


class SubscriptionOut(Schema):
    """The organization's plan and subscription state."""

    organization_id: int
    plan_id: str | None
    plan_label: str | None
    status: str
    trial_end: datetime | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    provider: str
    can_manage: bool


class CheckoutIn(Schema):
    """Which plan to buy, and the billing interval."""

    plan_id: str
    interval: str = "month"


class RedirectOut(Schema):
    """Where to send the browser next; ``applied`` when the plan changed already."""

    url: str
    applied: bool = False


def _error(exc: BillingError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def _plan_out(plan: Plan) -> PlanOut:
    return PlanOut(plan_id=plan.plan_id, label=plan.label, description=plan.description, trial_days=plan.trial_days,
                   prices=plan.prices, features=plan.features, limits=plan.limits, meters=plan.meters,
                   is_default=plan.is_default)


@router.get("/billing/plans", response=list[PlanOut], auth=None)
def list_plans(request: HttpRequest) -> list[PlanOut]:
    """The active plans, in catalog order (public: the pricing page's data)."""
    return [_plan_out(plan) for plan in Plan.objects.filter(active=True)]


@router.get("/billing/subscription", response=SubscriptionOut, auth=api_auth)
def subscription(request: HttpRequest) -> SubscriptionOut:
    """The caller's organization: effective plan and subscription state."""
    caller = get_caller(request)
    current = services.subscription_for(caller.organization)
    plan = services.effective_plan(caller.organization)
    return SubscriptionOut(
        organization_id=caller.organization.pk, plan_id=plan.plan_id if plan else None,
        plan_label=plan.label if plan else None, status=current.status if current else "default",
        trial_end=current.trial_end if current else None,
        current_period_start=current.current_period_start if current else None,
        current_period_end=current.current_period_end if current else None,
        cancel_at_period_end=bool(current and current.cancel_at_period_end),
        provider=current.provider if current else "local", can_manage=caller.can_manage,
    )


@router.post("/billing/checkout", response={200: RedirectOut}, auth=api_auth)
def checkout(request: HttpRequest, payload: CheckoutIn) -> Any:
    """Buy a plan: a checkout URL (Stripe) or an immediate change (local). Owners and admins only."""
    caller = get_caller(request)
    overview = request.build_absolute_uri(reverse("mozaiks_billing:overview"))
    try:
        result = services.start_checkout(organization=caller.organization, user=caller.user,
                                         plan_id=payload.plan_id, interval=payload.interval,
                                         success_url=f"{overview}?checkout=success",
                                         cancel_url=request.build_absolute_uri(reverse("mozaiks_billing:pricing")))
    except BillingError as exc:
        return _error(exc)
    return RedirectOut(url=result.url, applied=result.applied)


@router.post("/billing/portal", response={200: RedirectOut}, auth=api_auth)
def portal(request: HttpRequest) -> Any:
    """The customer portal URL. Owners and admins only."""
    caller = get_caller(request)
    try:
        url = services.open_portal(organization=caller.organization, user=caller.user,
                                   return_url=request.build_absolute_uri(reverse("mozaiks_billing:overview")))
    except BillingError as exc:
        return _error(exc)
    return RedirectOut(url=url)


@router.post("/billing/cancel", response={200: SubscriptionOut}, auth=api_auth)
def cancel(request: HttpRequest) -> Any:
    """Cancel the subscription (Stripe: at the period's end). Owners and admins only."""
    caller = get_caller(request)
    try:
        services.cancel_subscription(organization=caller.organization, user=caller.user)
    except BillingError as exc:
        return _error(exc)
    return subscription(request)
