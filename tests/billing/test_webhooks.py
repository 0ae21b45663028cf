"""Stripe webhooks: signatures, storage, duplicates, ordering, unknown customers, failures and a storm."""

from __future__ import annotations

import json
import random
import time

import pytest

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent
from mozaiks_core.billing.webhooks import process_event, replay, retry_due
from tests.billing.support import make_member, sign, stripe_event, subscription_object

pytestmark = pytest.mark.usefixtures("plans", "stripe_settings")
URL = "/billing/webhooks/stripe/"


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def post(payload: str, signature: str | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=payload, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(payload))

    return post


def _sub_event(event_id: str, event_type: str, org: Organization, status: str, created: int, plan: str = "pro",
               **extra) -> str:
    obj = subscription_object(f"sub_{org.pk}", f"cus_{org.pk}", org.pk, status, plan_id=plan, **extra)
    return stripe_event(event_id, event_type, obj, created)


def test_a_validly_signed_event_is_stored_and_applied(db, deliver) -> None:
    _, org = make_member("hook@example.com")
    trial_end = int(time.time()) + 86400 * 14
    response = deliver(_sub_event("evt_1", "customer.subscription.created", org, "trialing", 1000,
                                  trial_end=trial_end))
    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": "evt_1",
                                                               "duplicate": False}
    event = WebhookEvent.objects.get(event_id="evt_1")
    assert (event.status, event.attempts, event.organization_id, event.flagged) == ("processed", 1, org.pk, False)
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.plan.plan_id, subscription.status, subscription.trial_used) == ("pro", "trialing", True)
    assert subscription.provider_subscription_id == f"sub_{org.pk}"
    assert subscription.trial_end is not None


@pytest.mark.parametrize("signature", [
    sign("{}", secret="whsec_someone_else"), "t=1,v1=deadbeef", "", "garbage",
], ids=["other-secret", "wrong-digest", "missing", "garbage"])
def test_forged_or_missing_signatures_get_400_and_nothing_is_stored(db, deliver, signature) -> None:
    _, org = make_member("forged@example.com")
    payload = _sub_event("evt_forged", "customer.subscription.updated", org, "active", 1000)
    response = deliver(payload, signature=signature)
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_SIGNATURE"
    assert not WebhookEvent.objects.exists()
    assert not Subscription.objects.exists()


def test_a_stale_signature_older_than_five_minutes_is_refused(db, deliver) -> None:
    _, org = make_member("stale@example.com")
    payload = _sub_event("evt_old", "customer.subscription.updated", org, "active", 1000)
    response = deliver(payload, signature=sign(payload, timestamp=int(time.time()) - 301))
    assert response.status_code == 400
    assert deliver(payload, signature=sign(payload, timestamp=int(time.time()) - 250)).status_code == 200


@pytest.mark.parametrize("body", ["not json at all", '{"object": "event"}', "[1, 2]"])
def test_an_authentic_body_that_is_not_an_event_gets_400_invalid_payload(db, deliver, body) -> None:
    response = deliver(body)
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_PAYLOAD"
    assert not WebhookEvent.objects.exists()


def test_a_tampered_body_fails_verification(db, deliver) -> None:
    _, org = make_member("tamper@example.com")
    payload = _sub_event("evt_t", "customer.subscription.updated", org, "active", 1000)
    response = deliver(payload.replace('"active"', '"canceled"'), signature=sign(payload))
    assert response.status_code == 400


@pytest.mark.dbmatrix
def test_a_duplicate_delivery_is_a_no_op(db, deliver) -> None:
    _, org = make_member("dup@example.com")
    payload = _sub_event("evt_dup", "customer.subscription.created", org, "active", 1000)
    deliver(payload)
    Subscription.objects.filter(organization=org).update(status="past_due")  # a later change
    second = deliver(payload)
    assert second.json()["duplicate"] is True
    event = WebhookEvent.objects.get(event_id="evt_dup")
    assert (event.deliveries, event.attempts) == (2, 1)
    assert Subscription.objects.get(organization=org).status == "past_due"


@pytest.mark.dbmatrix
def test_an_older_event_arriving_late_never_moves_the_subscription_backwards(db, deliver) -> None:
    _, org = make_member("order@example.com")
    deliver(_sub_event("evt_c", "customer.subscription.created", org, "active", 1000))
    deliver(_sub_event("evt_del", "customer.subscription.deleted", org, "canceled", 1300))
    deliver(_sub_event("evt_upd", "customer.subscription.updated", org, "active", 1200, plan="team"))
    assert Subscription.objects.get(organization=org).status == "canceled"
    assert WebhookEvent.objects.get(event_id="evt_upd").status == "stale"


def test_invoice_events_mark_past_due_and_recover(db, deliver) -> None:
    _, org = make_member("invoice@example.com")
    deliver(_sub_event("evt_s", "customer.subscription.created", org, "active", 1000))
    invoice = {"id": "in_1", "object": "invoice", "customer": f"cus_{org.pk}", "subscription": f"sub_{org.pk}"}
    deliver(stripe_event("evt_fail", "invoice.payment_failed", invoice, 1100))
    assert Subscription.objects.get(organization=org).status == "past_due"
    deliver(stripe_event("evt_paid", "invoice.paid", invoice, 1200))
    assert Subscription.objects.get(organization=org).status == "active"


def test_checkout_completed_links_the_customer_and_subscription(db, deliver) -> None:
    _, org = make_member("linked@example.com")
    session = {"id": "cs_1", "object": "checkout.session", "customer": "cus_new", "subscription": "sub_new",
               "client_reference_id": str(org.pk), "metadata": {"organization_id": str(org.pk), "plan_id": "pro"}}
    deliver(stripe_event("evt_cs", "checkout.session.completed", session, 1000))
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.provider_customer_id, subscription.provider_subscription_id) == ("cus_new", "sub_new")


def test_events_for_unknown_customers_are_stored_flagged_and_replayable(db, deliver) -> None:
    invoice = {"id": "in_x", "object": "invoice", "customer": "cus_nobody", "subscription": "sub_nobody"}
    response = deliver(stripe_event("evt_unknown", "invoice.paid", invoice, 1000))
    assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt_unknown")
    assert (event.status, event.flagged) == ("unknown_customer", True)
    _, org = make_member("late-link@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="pro"), status="past_due",
                                provider="stripe", provider_customer_id="cus_nobody",
                                provider_subscription_id="sub_nobody")
    assert replay(event.pk) == "processed"
    assert Subscription.objects.get(organization=org).status == "active"


def test_unhandled_event_types_are_stored_and_ignored(db, deliver) -> None:
    deliver(stripe_event("evt_other", "customer.created", {"id": "cus_1", "object": "customer"}, 1000))
    assert WebhookEvent.objects.get(event_id="evt_other").status == "ignored"


def test_a_failing_event_is_recorded_retried_with_backoff_and_flagged_after_the_last_attempt(db, monkeypatch) -> None:
    from django.utils import timezone

    from mozaiks_core.billing.adapters import stripe_events

    event = WebhookEvent.objects.create(event_id="evt_boom", type="customer.subscription.updated",
                                        payload={"data": {"object": {}}})
    monkeypatch.setattr(stripe_events, "apply_stripe_event", lambda event, *_: 1 / 0)
    assert process_event(event.pk) == "failed"
    event.refresh_from_db()
    assert event.attempts == 1
    assert "ZeroDivisionError" in event.error
    assert event.next_attempt_at > timezone.now()
    assert retry_due() == []  # backoff not over yet
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now(), attempts=7)
    assert retry_due() == [event.pk]
    event.refresh_from_db()
    assert (event.attempts, event.flagged) == (8, True)
    monkeypatch.undo()


def test_webhooks_are_refused_when_stripe_is_not_configured(db, client, settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client.post(URL, data="{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x")
    assert response.status_code == 404
    assert response.json()["error"] == "WEBHOOKS_NOT_CONFIGURED"


@pytest.mark.dbmatrix
def test_a_storm_of_shuffled_and_duplicated_deliveries_ends_in_the_right_states(db, deliver) -> None:
    rng = random.Random(5)
    orgs = [Organization.objects.create(name=f"Storm {n}", slug=f"storm-{n}") for n in range(50)]
    statuses = ["trialing", "active", "past_due", "active", "incomplete", "active"]
    unique: list[str] = []
    expected: dict[int, tuple[str, str]] = {}
    for org in orgs:
        created = 1_000_000
        state = ("", "")
        for step in range(14):
            created += rng.randint(1, 50)
            last = step == 13
            kind = "customer.subscription.created" if step == 0 else (
                "customer.subscription.deleted" if last and org.pk % 3 == 0 else "customer.subscription.updated")
            status = "canceled" if kind.endswith("deleted") else rng.choice(statuses)
            plan = rng.choice(["pro", "team"])
            unique.append(_sub_event(f"evt_{org.pk}_{step}", kind, org, status, created, plan=plan))
            state = (status, plan)
        expected[org.pk] = state
    deliveries = unique + rng.sample(unique, 300)
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000
    for payload in deliveries:
        assert deliver(payload).status_code == 200
    final = {sub.organization_id: (sub.status, sub.plan.plan_id)
             for sub in Subscription.objects.select_related("plan").filter(organization__in=orgs)}
    assert final == expected
    events = WebhookEvent.objects.filter(event_id__startswith="evt_")
    assert events.count() == 700
    assert set(events.values_list("attempts", flat=True)) == {1}
    assert set(events.values_list("status", flat=True)) <= {"processed", "stale"}
    assert sum(events.values_list("deliveries", flat=True)) == 1000


@pytest.mark.postgres
def test_concurrent_deliveries_of_one_event_store_it_once_and_apply_it_once(postgres_db, transactional_db) -> None:
    import threading

    from django.db import connection
    from django.test import Client

    from tests.billing.support import install_test_catalog

    install_test_catalog()
    _, org = make_member("concurrent-hook@example.com")
    payload = _sub_event("evt_race", "customer.subscription.created", org, "active", 1000)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver_once() -> None:
        try:
            barrier.wait()
            response = Client().post(URL, data=payload, content_type="application/json",
                                     HTTP_STRIPE_SIGNATURE=sign(payload))
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    event = WebhookEvent.objects.get(event_id="evt_race")
    assert (event.deliveries, event.attempts, event.status) == (8, 1, "processed")
    assert Subscription.objects.get(organization=org).status == "active"


@pytest.mark.redis
@pytest.mark.slow
def test_with_redis_a_delivery_is_queued_after_commit_and_applied_by_a_real_celery_worker(
        transactional_db, celery_worker, celery_broker) -> None:
    from django.test import Client

    worker = celery_worker(queues="mozaiks.default")
    _, org = make_member("worker-hook@example.com")
    celery_broker(worker.info["redis_url"])
    payload = _sub_event("evt_worker", "customer.subscription.created", org, "active", 1000, plan="team")
    response = Client().post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
    assert response.status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = WebhookEvent.objects.get(event_id="evt_worker")
        if event.status != "received":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the worker never processed the event:\n{worker.log()[-3000:]}")
    assert (event.status, event.attempts) == ("processed", 1)
    assert Subscription.objects.get(organization=org).plan.plan_id == "team"
    assert "mozaiks.billing.process_webhook_event" in worker.log()  # applied by the worker, not in-process


@pytest.fixture
def stripe_http(monkeypatch):
    """Stripe's API behind the SDK, answered by a recording HTTP client (the subscription reads 'active')."""
    from mozaiks_core.billing.adapters.stripe import StripeAdapter
    from tests.billing.support import RecordingHTTPClient

    recorder = RecordingHTTPClient()
    monkeypatch.setattr(StripeAdapter, "default_http_client", recorder)
    return recorder


def test_an_update_in_the_same_second_as_the_deletion_never_resurrects_the_subscription(db, deliver,
                                                                                       stripe_http) -> None:
    _, org = make_member("same-second@example.com")
    deliver(_sub_event("evt_s1", "customer.subscription.created", org, "active", 1000))
    deliver(_sub_event("evt_s2", "customer.subscription.deleted", org, "canceled", 2000))
    late = deliver(_sub_event("evt_s3", "customer.subscription.updated", org, "active", 2000))
    assert late.status_code == 200
    subscription = Subscription.objects.get(organization=org)
    assert subscription.status == "canceled"
    assert WebhookEvent.objects.get(event_id="evt_s3").status == "stale"
    assert stripe_http.requests == []  # a canceled Stripe subscription is terminal: nothing to ask


def test_a_canceled_subscription_stays_canceled_even_for_a_later_update_of_the_same_stripe_subscription(
        db, deliver, stripe_http) -> None:
    _, org = make_member("later@example.com")
    deliver(_sub_event("evt_l1", "customer.subscription.deleted", org, "canceled", 2000))
    deliver(_sub_event("evt_l2", "customer.subscription.updated", org, "active", 2001))
    assert Subscription.objects.get(organization=org).status == "canceled"


def test_an_event_without_created_is_a_notice_and_the_current_state_is_read_from_stripe(db, deliver,
                                                                                         stripe_http) -> None:
    _, org = make_member("no-created@example.com")
    deliver(_sub_event("evt_n1", "customer.subscription.created", org, "active", 1000))
    payload = json.loads(_sub_event("evt_n2", "customer.subscription.updated", org, "past_due", 0))
    del payload["created"]
    assert deliver(json.dumps(payload)).status_code == 200
    subscription = Subscription.objects.get(organization=org)
    assert subscription.status == "active"  # what Stripe says now, not what the undated event claimed
    reads = [request for request in stripe_http.requests if request["method"] == "GET"]
    assert [request["path"] for request in reads] == [f"/v1/subscriptions/sub_{org.pk}"]


def test_an_event_without_created_cannot_reopen_a_canceled_subscription(db, deliver, stripe_http) -> None:
    _, org = make_member("no-created-2@example.com")
    deliver(_sub_event("evt_c1", "customer.subscription.deleted", org, "canceled", 1000))
    payload = json.loads(_sub_event("evt_c2", "customer.subscription.updated", org, "active", 0))
    del payload["created"]
    deliver(json.dumps(payload))
    assert Subscription.objects.get(organization=org).status == "canceled"
