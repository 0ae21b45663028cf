"""Billing provider adapters; :func:`get_adapter` is the one place that picks the provider."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from mozaiks_core.billing.adapters.base import (
    BillingAdapter,
    BillingError,
    CheckoutResult,
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
)

DEFAULT_ADAPTERS = {
    "local": "mozaiks_core.billing.adapters.local.LocalAdapter",
    "stripe": "mozaiks_core.billing.adapters.stripe.StripeAdapter",
}

__all__ = ["BillingAdapter", "BillingError", "CheckoutResult", "ParsedWebhook", "WebhookPayloadError",
           "WebhookSignatureError", "get_adapter"]


def get_adapter(provider: str | None = None) -> BillingAdapter:
    """The adapter for ``provider`` (default ``MOZAIKS_BILLING_PROVIDER``), from ``MOZAIKS_BILLING_ADAPTERS``."""
    name = provider or getattr(settings, "MOZAIKS_BILLING_PROVIDER", "local")
    adapters = {**DEFAULT_ADAPTERS, **getattr(settings, "MOZAIKS_BILLING_ADAPTERS", {})}
    if name not in adapters:
        raise BillingError("UNKNOWN_BILLING_PROVIDER", f"billing provider {name!r} has no adapter",
                           f"set MOZAIKS_BILLING_PROVIDER to one of {', '.join(sorted(adapters))}", status=500)
    return import_string(adapters[name])()
