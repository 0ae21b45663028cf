"""Fault (4): the PostgreSQL connection is dropped (pg_terminate_backend) while a webhook is being applied.

The delivery was stored before processing started, so it must be retried by the beat task and
applied exactly once: the subscription changes once, a later duplicate delivery changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from mozaiks_core.billing.adapters.stripe import StripeAdapter
from mozaiks_core.billing.models import Subscription, WebhookEvent
from mozaiks_core.billing.webhooks import process_event, retry_due
from tests.billing.support import (
    WEBHOOK_SECRET,
    install_test_catalog,
    make_member,
    sign,
    stripe_event,
    subscription_object,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
URL = "/billing/webhooks/stripe/"


def _terminate(pid: int) -> None:
    """Kill one backend from another connection, as a failover or an idle-timeout would."""
    params = connection.get_connection_params()
    dsn = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
    with psycopg.connect(dbname=params["dbname"], autocommit=True, **dsn) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_webhook_whose_database_connection_drops_mid_apply_is_retried_and_applied_once(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_mozaiks"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    install_test_catalog()
    _, organization = make_member("db-drop@example.com")
    payload = stripe_event("evt_db_drop", "customer.subscription.updated", subscription_object(
        f"sub_{organization.pk}", f"cus_{organization.pk}", organization.pk, "active", plan_id="pro"), 1000)
    real_apply = StripeAdapter.apply_webhook
    drops: list[int] = []

    def apply_with_a_dropped_connection(self: StripeAdapter, event: WebhookEvent) -> str:
        if not drops:
            pid = connection.connection.info.backend_pid
            drops.append(pid)
            _terminate(pid)
        return real_apply(self, event)

    monkeypatch.setattr(StripeAdapter, "apply_webhook", apply_with_a_dropped_connection)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # processing is driven below, as the worker would
    monkeypatch.setattr("mozaiks_core.billing.webhooks.enqueue", lambda pk: None)
    response = Client().post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
    assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt_db_drop")

    with pytest.raises(DatabaseError):
        process_event(event.pk)  # the worker's task: its connection dies under it
    assert drops
    connection.close()  # what Celery's Django fixup does after a task that broke its connection

    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the beat task runs after the grace period
    assert retry_due() == [event.pk]
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    subscription = Subscription.objects.get(organization=organization)
    assert (subscription.plan.plan_id, subscription.status) == ("pro", "active")

    again = Client().post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
    assert again.json()["duplicate"] is True
    assert retry_due() == []
    event.refresh_from_db()
    assert (event.status, event.attempts, event.deliveries) == ("processed", 1, 2)
