"""Shared test helpers for billing and entitlements: a test catalog, organizations, Stripe fakes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.contrib.auth import get_user_model
from django.core.cache import cache

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.billing.catalog import parse_catalog_text
from mozaiks_core.billing.plans import INDEX_CACHE_KEY
from mozaiks_core.billing.services import sync_plans

WEBHOOK_SECRET = "whsec_test_secret_for_mozaiks"

TEST_CATALOG = """
default_plan_id: free
entitlements:
  features:
    chat: {label: Chat}
    export_chats: {label: Chat export}
    audit_log: {label: Audit log}
  limits:
    members: {label: Seats, unit: seat}
    api_keys: {label: API keys, unit: API key}
  meters:
    tokens_monthly: {label: AI tokens, unit: token}
    workflow_runs_monthly: {label: Workflow runs, unit: run}
    searches_daily: {label: Searches, unit: search}
plans:
  - plan_id: free
    label: Free
    features: {chat: true, export_chats: false}
    limits: {members: 3, api_keys: 0}
    meters:
      tokens_monthly: {limit: 1000, reset: month, enforcement: hard}
      workflow_runs_monthly: {limit: 3, reset: month, enforcement: hard}
      searches_daily: {limit: 5, reset: day, enforcement: soft}
  - plan_id: pro
    label: Pro
    trial_days: 14
    prices:
      - {interval: month, amount: 29, currency: usd, provider_price_id: price_pro_month}
      - {interval: year, amount: 290, currency: usd, provider_price_id: price_pro_year}
    features: {chat: true, export_chats: true}
    limits: {members: null, api_keys: 10}
    meters:
      tokens_monthly: {limit: 100000, reset: month, enforcement: hard, provider_event_name: mozaiks_tokens}
      workflow_runs_monthly: {limit: null, reset: month}
      searches_daily: {limit: 100, reset: day, enforcement: hard}
  - plan_id: team
    label: Team
    prices:
      - {interval: month, amount: 99, currency: usd, provider_price_id: price_team_month}
    features: {chat: true, export_chats: true, audit_log: true}
    limits: {members: null, api_keys: 50}
    meters:
      tokens_monthly: {limit: 1000000, reset: month, enforcement: soft}
      workflow_runs_monthly: {limit: null, reset: month}
      searches_daily: {limit: null, reset: day}
"""


def install_test_catalog() -> None:
    """Replace the plans in the database with TEST_CATALOG."""
    catalog, problems = parse_catalog_text(TEST_CATALOG, "test-subscriptions.yaml")
    assert catalog is not None, problems
    sync_plans(catalog, force=True)
    cache.delete(INDEX_CACHE_KEY)


def make_member(email: str, organization: Organization | None = None, role: str = "owner") -> tuple[Any, Organization]:
    """A user and the organization they act for (their personal one unless given)."""
    user = get_user_model().objects.create_user(username=email, email=email, password=None)
    if organization is None:
        organization = Membership.objects.get(user=user).organization
        Membership.objects.filter(user=user, organization=organization).update(role=role)
    else:
        Membership.objects.create(user=user, organization=organization, role=role)
    return user, organization


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for ``payload``, computed like Stripe does."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_id: str, event_type: str, obj: dict[str, Any], created: int) -> str:
    """A Stripe-shaped event payload."""
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "created": created,
                       "api_version": "2025-08-27.basil", "livemode": False, "data": {"object": obj}})


def subscription_object(sub_id: str, customer: str, organization_id: int, status: str, plan_id: str = "pro",
                        **extra: Any) -> dict[str, Any]:
    """A Stripe subscription object as the webhooks carry it."""
    return {"id": sub_id, "object": "subscription", "customer": customer, "status": status,
            "metadata": {"organization_id": str(organization_id), "plan_id": plan_id},
            "items": {"object": "list", "data": [{"id": f"si_{sub_id}", "price": {"id": f"price_{plan_id}_month"},
                                                   "current_period_start": 1_700_000_000,
                                                   "current_period_end": 1_702_592_000}]},
            "cancel_at_period_end": False, "trial_end": None, **extra}


class RecordingHTTPClient(stripe.HTTPClient):
    """A stripe.HTTPClient that records every request and answers with Stripe-shaped JSON."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
                ) -> tuple[str, int, dict[str, str]]:
        path = urlsplit(url).path
        params = dict(parse_qsl(post_data or urlsplit(url).query))
        self.requests.append({"method": method.upper(), "path": path, "headers": dict(headers or {}),
                              "params": params})
        return json.dumps(self._answer(method.upper(), path, params)), 200, {"request-id": "req_test"}

    def _answer(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        if path == "/v1/customers":
            return {"id": "cus_test_1", "object": "customer", "name": params.get("name")}
        if path == "/v1/checkout/sessions":
            return {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_1"}
        if path == "/v1/billing_portal/sessions":
            return {"id": "bps_test_1", "object": "billing_portal.session",
                    "url": "https://billing.stripe.com/p/session/test_1"}
        if path == "/v1/billing/meter_events":
            return {"object": "billing.meter_event", "event_name": params.get("event_name"),
                    "identifier": params.get("identifier"), "created": int(time.time()), "livemode": False,
                    "payload": {"stripe_customer_id": params.get("payload[stripe_customer_id]"),
                                "value": params.get("payload[value]")}}
        if path.startswith("/v1/subscriptions/"):
            sub_id = path.rsplit("/", 1)[-1]
            status = "canceled" if method == "DELETE" else "active"
            return {"id": sub_id, "object": "subscription", "customer": "cus_test_1", "status": status,
                    "cancel_at_period_end": params.get("cancel_at_period_end") == "true",
                    "metadata": {"plan_id": "pro"}, "items": {"object": "list", "data": []}}
        return {"error": {"message": f"unexpected {method} {path}", "type": "invalid_request_error"}}

    def close(self) -> None:
        """Nothing to close."""

    def posts(self, path: str) -> list[dict[str, Any]]:
        """The recorded write calls to ``path``."""
        return [request for request in self.requests if request["path"] == path and request["method"] != "GET"]
