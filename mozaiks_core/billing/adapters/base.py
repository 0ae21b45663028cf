"""The billing provider interface: one adapter class per provider, chosen by settings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mozaiks_core.auth.models import Organization
    from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent


class BillingError(Exception):
    """A billing action the caller asked for cannot happen; carries a structured body."""

    def __init__(self, code: str, message: str, hint: str = "", status: int = 400, **extra: Any) -> None:
        self.code, self.message, self.hint, self.status, self.extra = code, message, hint, status, extra
        super().__init__(message)

    def as_dict(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"error": self.code, "message": self.message, "hint": self.hint, **self.extra}


class WebhookSignatureError(Exception):
    """A webhook delivery that is not authentic (bad, missing or stale signature)."""

    code = "INVALID_SIGNATURE"


class WebhookPayloadError(WebhookSignatureError):
    """An authentic delivery whose body is not an event (not JSON, no id or type)."""

    code = "INVALID_PAYLOAD"


@dataclass(frozen=True)
class CheckoutResult:
    """Where to send the buyer next; ``applied`` is True when the plan already changed (local)."""

    url: str
    applied: bool
    session_id: str = ""


@dataclass(frozen=True)
class ParsedWebhook:
    """A verified provider event, ready to be stored."""

    event_id: str
    type: str
    created: datetime | None
    payload: dict[str, Any]


class BillingAdapter(ABC):
    """What the billing services need from a payment provider.

    Adding a provider is one module with a subclass, named in ``MOZAIKS_BILLING_ADAPTERS``.
    """

    name: str = ""

    @abstractmethod
    def start_checkout(self, *, organization: Organization, plan: Plan, interval: str, user: Any,
                       success_url: str, cancel_url: str) -> CheckoutResult:
        """Start buying ``plan``: a provider checkout page, or an immediate change."""

    @abstractmethod
    def open_portal(self, *, organization: Organization, return_url: str) -> str:
        """A URL where the organization manages payment methods and invoices."""

    @abstractmethod
    def cancel(self, *, organization: Organization, at_period_end: bool = True) -> Subscription:
        """Cancel the organization's subscription (at the period's end when the provider bills periods)."""

    @abstractmethod
    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """Verify and parse one delivery; raises :class:`WebhookSignatureError` when not authentic."""

    @abstractmethod
    def apply_webhook(self, event: WebhookEvent) -> str:
        """Apply a stored event; returns the WebhookEvent status it ends in."""

    @abstractmethod
    def report_usage(self, *, organization: Organization, event_name: str, quantity: int, identifier: str) -> bool:
        """Report metered usage to the provider; False when there is nothing to report to."""

    @abstractmethod
    def sync(self, *, organization: Organization) -> Subscription | None:
        """Refresh the organization's subscription from the provider."""
