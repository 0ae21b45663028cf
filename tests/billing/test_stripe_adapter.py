"""The Stripe adapter, offline through the real SDK with a recording stripe.HTTPClient."""

from __future__ import annotations

import pytest
from django.db import transaction

from mozaiks_core.billing.adapters import BillingError
from mozaiks_core.billing.adapters.stripe import StripeAdapter
from mozaiks_core.billing.models import Plan, Subscription
from mozaiks_core.billing.services import cancel_subscription, start_checkout
from mozaiks_core.entitlements.services import meter_llm_tokens
from tests.billing.support import RecordingHTTPClient, make_member

pytestmark = pytest.mark.usefixtures("plans", "stripe_settings")


@pytest.fixture
def http(monkeypatch) -> RecordingHTTPClient:
    recorder = RecordingHTTPClient()
    monkeypatch.setattr(StripeAdapter, "default_http_client", recorder)
    return recorder


@pytest.fixture
def stripe_provider(settings) -> None:
    settings.MOZAIKS_BILLING_PROVIDER = "stripe"


def _checkout(org, user, plan_id="pro", interval="month"):
    return start_checkout(organization=org, user=user, plan_id=plan_id, interval=interval,
                          success_url="https://app.example/billing/?checkout=success",
                          cancel_url="https://app.example/billing/pricing/")


def test_checkout_creates_a_customer_then_a_subscription_mode_session_with_the_trial(db, http, stripe_provider) -> None:
    user, org = make_member("buyer@example.com")
    result = _checkout(org, user)
    assert (result.url, result.applied) == ("https://checkout.stripe.com/c/pay/cs_test_1", False)
    customer, session = http.posts("/v1/customers")[0], http.posts("/v1/checkout/sessions")[0]
    assert customer["headers"]["Idempotency-Key"] == f"mozaiks-customer-{org.pk}"
    params = session["params"]
    assert params["mode"] == "subscription"
    assert params["customer"] == "cus_test_1"
    assert params["line_items[0][price]"] == "price_pro_month"
    assert params["subscription_data[trial_period_days]"] == "14"
    assert params["subscription_data[metadata][organization_id]"] == str(org.pk)
    assert params["client_reference_id"] == str(org.pk)
    assert session["headers"]["Idempotency-Key"].startswith(f"mozaiks-checkout-{org.pk}-")
    assert Subscription.objects.get(organization=org).provider_customer_id == "cus_test_1"


def test_a_second_checkout_reuses_the_customer_and_skips_a_used_trial(db, http, stripe_provider) -> None:
    user, org = make_member("again@example.com")
    _checkout(org, user)
    Subscription.objects.filter(organization=org).update(trial_used=True)
    _checkout(org, user, interval="year")
    assert len(http.posts("/v1/customers")) == 1
    second = http.posts("/v1/checkout/sessions")[1]["params"]
    assert second["line_items[0][price]"] == "price_pro_year"
    assert "subscription_data[trial_period_days]" not in second
    keys = [request["headers"]["Idempotency-Key"] for request in http.posts("/v1/checkout/sessions")]
    assert len(set(keys)) == 2


def test_unknown_plans_and_intervals_are_refused_before_any_stripe_call(db, http, stripe_provider) -> None:
    user, org = make_member("typo@example.com")
    with pytest.raises(BillingError) as unknown:
        _checkout(org, user, plan_id="platinum")
    assert (unknown.value.code, unknown.value.status) == ("UNKNOWN_PLAN", 404)
    assert "free, pro, team" in unknown.value.hint
    with pytest.raises(BillingError) as interval:
        _checkout(org, user, plan_id="team", interval="year")
    assert interval.value.code == "UNKNOWN_INTERVAL"
    assert http.requests == []


def test_members_who_are_not_owners_or_admins_cannot_start_checkout(db, http, stripe_provider) -> None:
    _, org = make_member("boss@example.com")
    member, _ = make_member("staff@example.com", organization=org, role="member")
    with pytest.raises(BillingError) as caught:
        _checkout(org, member)
    assert caught.value.status == 403
    assert http.requests == []


def test_the_portal_session_is_opened_for_the_customer(db, http, stripe_provider) -> None:
    from mozaiks_core.billing.services import open_portal

    user, org = make_member("portal@example.com")
    with pytest.raises(BillingError, match="not paid through Stripe"):
        open_portal(organization=org, user=user, return_url="https://app.example/billing/")
    _checkout(org, user)
    url = open_portal(organization=org, user=user, return_url="https://app.example/billing/")
    assert url == "https://billing.stripe.com/p/session/test_1"
    request = http.posts("/v1/billing_portal/sessions")[0]
    assert request["params"] == {"customer": "cus_test_1", "return_url": "https://app.example/billing/"}
    assert request["headers"]["Idempotency-Key"]


def test_cancel_sets_cancel_at_period_end_at_stripe_and_locally(db, http, stripe_provider) -> None:
    user, org = make_member("cancel@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="pro"), status="active",
                                provider="stripe", provider_customer_id="cus_test_1",
                                provider_subscription_id="sub_42")
    subscription = cancel_subscription(organization=org, user=user)
    update = http.posts("/v1/subscriptions/sub_42")[0]
    assert update["params"] == {"cancel_at_period_end": "true"}
    assert update["headers"]["Idempotency-Key"].startswith("mozaiks-cancel-sub_42-")
    assert subscription.cancel_at_period_end
    assert subscription.status == "active"
    StripeAdapter().cancel(organization=org, at_period_end=False)
    assert http.requests[-1]["method"] == "DELETE"
    assert Subscription.objects.get(organization=org).status == "canceled"


def test_token_usage_is_reported_as_billing_meter_events_with_idempotency(db, http, stripe_provider,
                                                                          django_capture_on_commit_callbacks) -> None:
    user, org = make_member("meter@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="pro"), status="active",
                                provider="stripe", provider_customer_id="cus_test_1", provider_subscription_id="sub_1")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        meter_llm_tokens(organization=org, user=user, total_tokens=321, transaction_id="chat-9:call-1")
        meter_llm_tokens(organization=org, user=user, total_tokens=321, transaction_id="chat-9:call-1")
    events = http.posts("/v1/billing/meter_events")
    assert len(events) == 1
    assert events[0]["params"] == {"event_name": "mozaiks_tokens", "identifier": "chat-9:call-1",
                                   "payload[stripe_customer_id]": "cus_test_1", "payload[value]": "321"}
    assert events[0]["headers"]["Idempotency-Key"] == "mozaiks-meter-chat-9:call-1"


def test_every_write_call_carries_an_idempotency_key(db, http, stripe_provider) -> None:
    user, org = make_member("keys@example.com")
    _checkout(org, user)
    Subscription.objects.filter(organization=org).update(provider_subscription_id="sub_7", status="active")
    StripeAdapter().cancel(organization=org)
    StripeAdapter().report_usage(organization=org, event_name="mozaiks_tokens", quantity=5, identifier="x-1")
    writes = [request for request in http.requests if request["method"] in {"POST", "DELETE"}]
    assert len(writes) == 4
    assert all(request["headers"].get("Idempotency-Key") for request in writes)


def test_sync_reads_the_subscription_back_from_stripe(db, http, stripe_provider) -> None:
    _, org = make_member("sync@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="team"), status="past_due",
                                provider="stripe", provider_customer_id="cus_test_1", provider_subscription_id="sub_9")
    subscription = StripeAdapter().sync(organization=org)
    assert http.requests[-1]["method"] == "GET"
    assert http.requests[-1]["path"] == "/v1/subscriptions/sub_9"
    assert (subscription.status, subscription.plan.plan_id) == ("active", "pro")


def test_stripe_errors_become_structured_billing_errors(db, stripe_provider, monkeypatch) -> None:
    class Failing(RecordingHTTPClient):
        def request(self, method, url, headers, post_data=None, *, _usage=None):
            return '{"error": {"message": "No such price", "type": "invalid_request_error"}}', 400, {}

    monkeypatch.setattr(StripeAdapter, "default_http_client", Failing())
    user, org = make_member("fail@example.com")
    with pytest.raises(BillingError) as caught:
        _checkout(org, user)
    assert (caught.value.code, caught.value.status) == ("PROVIDER_ERROR", 502)
    assert "No such price" in caught.value.message


def test_an_organization_paying_through_stripe_is_sent_to_the_portal_instead_of_a_second_checkout(
        db, http, stripe_provider) -> None:
    user, org = make_member("twice@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="pro"), status="active",
                                provider="stripe", provider_customer_id="cus_test_1", provider_subscription_id="sub_1")
    with pytest.raises(BillingError) as caught:
        _checkout(org, user, plan_id="team")
    assert (caught.value.code, caught.value.status) == ("ALREADY_SUBSCRIBED", 409)
    assert http.requests == []


def test_operators_sync_subscriptions_from_stripe_in_the_admin(db, http, client) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    _, org = make_member("admin-sync@example.com")
    subscription = Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="team"),
                                               status="past_due", provider="stripe",
                                               provider_customer_id="cus_test_1", provider_subscription_id="sub_5")
    root = get_user_model().objects.create_superuser("ops@example.com", "ops@example.com", None)
    client.force_login(root)
    response = client.post(reverse("admin:mozaiks_billing_subscription_changelist"),
                           {"action": "sync_from_provider", "_selected_action": [subscription.pk]}, follow=True)
    assert "Synced 1 subscription(s)." in response.content.decode()
    subscription.refresh_from_db()
    assert (subscription.status, subscription.plan.plan_id) == ("active", "pro")
