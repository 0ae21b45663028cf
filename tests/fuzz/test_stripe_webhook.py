"""Fuzzing the Stripe webhook with VALID signatures on random bodies: 2xx or a structured 4xx, never a 500.

The signature is computed with the configured ``STRIPE_WEBHOOK_SECRET`` exactly as Stripe does, so
every body gets past authentication and reaches parsing, storage and processing (the after-commit
callbacks run inside the request here, so a crash while applying the event fails the test too).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mozaiks_core.billing.models import WebhookEvent
from tests.billing.support import WEBHOOK_SECRET, install_test_catalog, make_member, sign, subscription_object
from tests.fuzz.strategies import PATHS, json_trees, nested_json, replace_at

URL = "/billing/webhooks/stripe/"
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
EVENT_TYPES = ["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
               "invoice.paid", "invoice.payment_failed", "checkout.session.completed", "charge.refunded"]


@pytest.fixture
def stripe_endpoint(db: None, settings: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """POST a body signed with the configured secret; after-commit processing runs before it returns."""
    settings.STRIPE_SECRET_KEY = "sk_test_mozaiks"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    install_test_catalog()
    _, organization = make_member("fuzz-billing@example.com")
    client = Client()

    def post(body: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body))

    post.organization = organization  # type: ignore[attr-defined]
    return post


def _assert_structured(response: Any) -> None:
    assert response.status_code < 500, response.content
    body = response.json()
    if response.status_code >= 400:
        assert all((body["error"], body["message"])), body
    else:
        assert body["received"] is True, body


def _event(event_id: str, event_type: str, obj: Any, created: Any) -> str:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "created": created,
                       "api_version": "2025-08-27.basil", "livemode": False, "data": {"object": obj}})


@FUZZ
@given(body=st.one_of(json_trees().map(json.dumps), st.text(max_size=300), nested_json(),
                     nested_json().map(lambda value: '{"id": "evt_n", "type": "invoice.paid", "data": ' + value + "}")))
def test_validly_signed_random_bodies_get_a_structured_answer(stripe_endpoint: Any, body: str) -> None:
    _assert_structured(stripe_endpoint(body))


@FUZZ
@given(event_id=st.text(min_size=1, max_size=30), event_type=st.sampled_from(EVENT_TYPES),
       obj=json_trees(), created=st.one_of(st.integers(min_value=-(2**40), max_value=2**40), json_trees(3)))
def test_validly_signed_events_with_random_objects_get_a_structured_answer(
        stripe_endpoint: Any, event_id: str, event_type: str, obj: Any, created: Any) -> None:
    _assert_structured(stripe_endpoint(_event(event_id, event_type, obj, created)))


@FUZZ
@given(event_type=st.sampled_from(EVENT_TYPES), path=PATHS, value=json_trees(max_leaves=6),
       serial=st.integers(min_value=0, max_value=10**9))
def test_validly_signed_subscription_events_with_one_mutated_field_get_a_structured_answer(
        stripe_endpoint: Any, event_type: str, path: list[int], value: Any, serial: int) -> None:
    organization = stripe_endpoint.organization
    obj = subscription_object(f"sub_{organization.pk}", f"cus_{organization.pk}", organization.pk, "active")
    response = stripe_endpoint(_event(f"evt_fuzz_{serial}", event_type, replace_at(obj, path, value), 1000 + serial))
    _assert_structured(response)
    if response.status_code == 200:
        event = WebhookEvent.objects.get(event_id=response.json()["event_id"])
        assert event.status in set(WebhookEvent.Status.values), event.status
