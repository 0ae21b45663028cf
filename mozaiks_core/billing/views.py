"""Billing pages (pricing, the organization's billing page, checkout/portal/cancel) and the Stripe webhook."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mozaiks_core.auth.caller import Caller, build_caller
from mozaiks_core.billing import services
from mozaiks_core.billing.adapters import BillingError, WebhookSignatureError
from mozaiks_core.billing.catalog import key_spec
from mozaiks_core.billing.models import Plan
from mozaiks_core.billing.plan_lines import plan_lines
from mozaiks_core.billing.webhooks import receive_webhook


def _caller(request: HttpRequest) -> Caller | None:
    if not request.user.is_authenticated:
        return None
    return build_caller(request, request.user, "session")


def pricing(request: HttpRequest) -> HttpResponse:
    """The plans of the catalog with their prices; managers can choose one."""
    caller = _caller(request)
    current = services.effective_plan(caller.organization) if caller else None
    plans = list(Plan.objects.filter(active=True))
    for plan in plans:
        plan.lines = plan_lines(plan)  # type: ignore[attr-defined]
    key = request.GET.get("key", "")[:80]
    return render(request, "mozaiks/billing/pricing.html", {
        "plans": plans, "current_plan": current, "caller": caller,
        "can_manage": bool(caller and caller.can_manage), "highlight_key": key,
        "highlight_label": key_spec(key).label if key else "",
        "granting": {plan.plan_id for plan in plans if key and _grants(plan, key)},
    })


def _grants(plan: Plan, key: str) -> bool:
    """Whether ``plan`` includes ``key`` (a true feature, a non-zero limit or any meter)."""
    return bool(plan.features.get(key)) or plan.limits.get(key, 0) != 0 or key in plan.meters


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The organization's plan, trial, usage and billing actions."""
    caller = _caller(request)
    if caller is None:
        return render(request, "mozaiks/billing/no_organization.html", status=403)
    organization = caller.organization
    subscription = services.subscription_for(organization)
    return render(request, "mozaiks/billing/overview.html", {
        "organization": organization, "subscription": subscription,
        "plan": services.effective_plan(organization), "can_manage": caller.can_manage,
        "plans": Plan.objects.filter(active=True), "provider": getattr(settings, "MOZAIKS_BILLING_PROVIDER", "local"),
        "has_portal": bool(subscription and subscription.provider != "local"),
        "cancel_warning": _cancel_warning(organization, subscription),
    })


def _cancel_warning(organization: Any, subscription: Any) -> str:
    """What cancelling does, in words, for the confirmation dialog (a trial or local plan ends at once)."""
    if subscription is None:
        return ""
    fallback = services.default_plan()
    after = (f"{organization.name} moves to the {fallback.label} plan" if fallback
             else f"{organization.name} loses the plan")
    if subscription.provider == "local" or subscription.status == "trialing":
        what = "trial" if subscription.status == "trialing" else "subscription"
        return f"Cancel the {subscription.plan.label} {what}? It ends now and {after} at once."
    period_end = subscription.current_period_end
    end = period_end.strftime("%b %-d, %Y") if period_end else "the period's end"
    return f"Cancel the {subscription.plan.label} subscription? It stays active until {end}; then {after}."


def _back(request: HttpRequest, error: BillingError | None = None, target: str = "overview") -> HttpResponseRedirect:
    if error is not None:
        messages.error(request, f"{error.message} {error.hint}".strip())
    return HttpResponseRedirect(reverse(f"mozaiks_billing:{target}"))


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """Start buying a plan (Stripe Checkout) or switch at once (local)."""
    caller = _caller(request)
    if caller is None:
        return _back(request, BillingError("NO_ORGANIZATION", "Choose an organization first."), "pricing")
    success = request.build_absolute_uri(reverse("mozaiks_billing:overview"))
    try:
        result = services.start_checkout(organization=caller.organization, user=request.user,
                                         plan_id=request.POST.get("plan_id", ""),
                                         interval=request.POST.get("interval", "month"),
                                         success_url=f"{success}?checkout=success",
                                         cancel_url=request.build_absolute_uri(reverse("mozaiks_billing:pricing")))
    except BillingError as exc:
        return _back(request, exc, "pricing")
    if result.applied:
        messages.success(request, "Your plan has changed.")
    return HttpResponseRedirect(result.url)


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    """Open the provider's customer portal."""
    caller = _caller(request)
    if caller is None:
        return _back(request, BillingError("NO_ORGANIZATION", "Choose an organization first."))
    try:
        url = services.open_portal(organization=caller.organization, user=request.user,
                                   return_url=request.build_absolute_uri(reverse("mozaiks_billing:overview")))
    except BillingError as exc:
        return _back(request, exc)
    return HttpResponseRedirect(url)


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel the organization's subscription."""
    caller = _caller(request)
    if caller is None:
        return _back(request, BillingError("NO_ORGANIZATION", "Choose an organization first."))
    try:
        services.cancel_subscription(organization=caller.organization, user=request.user)
    except BillingError as exc:
        return _back(request, exc)
    messages.success(request, "The subscription is canceled.")
    return _back(request)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Receive a Stripe event: verify, store once, process after commit. Invalid signatures get 400."""
    if not getattr(settings, "STRIPE_WEBHOOK_SECRET", ""):
        return JsonResponse({"error": "WEBHOOKS_NOT_CONFIGURED", "message": "Stripe webhooks are not configured.",
                             "hint": "Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret."}, status=404)
    try:
        event, created = receive_webhook("stripe", request.body, request.headers)
    except WebhookSignatureError as exc:
        if exc.code == "INVALID_PAYLOAD":
            body = {"error": exc.code, "message": f"The delivery is not a Stripe event: {exc}",
                    "hint": "Send Stripe's event JSON unchanged."}
        else:
            body = {"error": exc.code, "message": f"The delivery is not authentic: {exc}",
                    "hint": "Check STRIPE_WEBHOOK_SECRET matches the endpoint's signing secret."}
        return JsonResponse(body, status=400)
    body: dict[str, Any] = {"received": True, "event_id": event.event_id, "duplicate": not created}
    return JsonResponse(body)
