"""Billing pages and the billing API: pricing, the organization page with usage, roles, structured errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mozaiks_core.billing.models import Plan, Subscription, WebhookEvent
from mozaiks_core.entitlements.metering import consume
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")


def test_the_pricing_page_lists_the_catalog_to_anyone(db, client) -> None:
    response = client.get("/billing/pricing/?key=export_chats")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ["Free", "Pro", "Team", "29 USD", "14-day free trial", "Chat export", "Sign up", "3 seats",
                 "Unlimited seats", "AI tokens: 1,000 a month", "AI tokens: 1,000,000 a month (soft limit"]:
        assert text in html
    page = html.split("<main", 1)[1]
    for key in ["export_chats", "tokens_monthly", "api_keys:", "unlimited per month", "workflow_runs_monthly"]:
        assert key not in page.replace('data-plan=', '').replace('?key=export_chats', ''), key
    assert 'class="plan-card plan-highlight" data-plan="pro"' in html
    assert 'class="plan-card" data-plan="free"' in html  # free declares export_chats: false


def test_the_billing_page_shows_plan_usage_bars_and_a_30_day_svg_chart(db, client) -> None:
    user, org = make_member("page@example.com")
    consume(org, "tokens_monthly", 420, "page-tokens", enforce=False)
    client.force_login(user)
    html = client.get("/billing/").content.decode()
    assert "Current plan: Free" in html
    assert "No subscription" in html
    assert 'data-meter="tokens_monthly"' in html
    assert "420 / 1,000" in html
    assert 'aria-label="AI tokens: 42% used"' in html
    assert "<strong>AI tokens</strong>" in html
    assert "1 of 3 seats used" in html
    assert '<svg class="usage-chart"' in html
    assert html.count('class="usage-bar"') == 30
    assert "Upgrade or change plan" in html
    assert "Manage payment details" not in html, "the local adapter has no portal to send anyone to"
    assert "Payments are not switched on for this app" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]  # the chart needs no JavaScript


def test_members_see_billing_but_cannot_change_it(db, client) -> None:
    _, org = make_member("owner-p@example.com")
    member, _ = make_member("member-p@example.com", organization=org, role="member")
    client.force_login(member)
    session = client.session
    session["mozaiks_active_org"] = org.pk
    session.save()
    html = client.get("/billing/").content.decode()
    assert "Only owners and admins" in html
    assert "Upgrade or change plan" not in html
    response = client.post("/billing/checkout/", {"plan_id": "pro", "interval": "month"}, follow=True)
    assert "Only owners and admins" in response.content.decode()
    assert not Subscription.objects.filter(organization=org).exists()


def test_choosing_a_plan_on_the_local_provider_applies_it_at_once_with_a_trial(db, client) -> None:
    user, org = make_member("local@example.com")
    client.force_login(user)
    response = client.post("/billing/checkout/", {"plan_id": "pro", "interval": "year"})
    assert response.status_code == 302
    assert response.url.endswith("/billing/?checkout=success")
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.plan.plan_id, subscription.status, subscription.interval) == ("pro", "trialing", "year")
    html = client.get("/billing/").content.decode()
    assert "Current plan: Pro" in html
    assert "trial ends" in html
    client.post("/billing/cancel/")
    assert Subscription.objects.get(organization=org).status == "canceled"
    assert "Current plan: Free" in client.get("/billing/").content.decode()


def test_an_unknown_plan_in_the_checkout_form_is_explained(db, client) -> None:
    user, _ = make_member("form@example.com")
    client.force_login(user)
    response = client.post("/billing/checkout/", {"plan_id": "diamond"}, follow=True)
    assert "There is no plan &#x27;diamond&#x27;" in response.content.decode()


def test_the_billing_api_lists_plans_and_the_subscription(db, client) -> None:
    plans = client.get("/api/billing/plans").json()
    assert [plan["plan_id"] for plan in plans] == ["free", "pro", "team"]
    user, _org = make_member("api@example.com")
    client.force_login(user)
    body = client.get("/api/billing/subscription").json()
    assert (body["plan_id"], body["status"], body["can_manage"]) == ("free", "default", True)


def test_the_checkout_api_returns_structured_errors_and_applies_local_changes(db, client) -> None:
    user, _org = make_member("api-co@example.com")
    client.force_login(user)
    csrf: dict[str, str] = {}  # the test client skips CSRF; the session auth still applies
    bad = client.post("/api/billing/checkout", {"plan_id": "nope"}, content_type="application/json", **csrf)
    assert bad.status_code == 404
    assert bad.json()["error"] == "UNKNOWN_PLAN"
    assert "free, pro, team" in bad.json()["hint"]
    ok = client.post("/api/billing/checkout", {"plan_id": "team"}, content_type="application/json", **csrf)
    assert ok.status_code == 200
    assert ok.json()["applied"] is True
    assert client.get("/api/billing/subscription").json()["plan_id"] == "team"
    assert client.post("/api/billing/portal", content_type="application/json", **csrf).json()["url"] == "/billing/"
    cancelled = client.post("/api/billing/cancel", content_type="application/json", **csrf).json()
    assert (cancelled["status"], cancelled["plan_id"]) == ("canceled", "free")
    again = client.post("/api/billing/cancel", content_type="application/json", **csrf)
    assert again.status_code == 409
    assert again.json()["error"] == "NO_SUBSCRIPTION"


def test_the_entitlements_api_reports_decisions_and_usage(db, client) -> None:
    user, org = make_member("ent-api@example.com")
    consume(org, "tokens_monthly", 50, "api-usage", enforce=False)
    client.force_login(user)
    body = client.get("/api/entitlements").json()
    decisions = {row["key"]: row for row in body["entitlements"]}
    assert body["plan_id"] == "free"
    assert decisions["export_chats"]["granted"] is False
    assert decisions["audit_log"]["reason"] == "ENTITLEMENT_REQUIRED"
    assert client.get("/api/entitlements/nothing-like-it").json()["reason"] == "UNKNOWN_KEY"
    usage = client.get("/api/entitlements/usage?meter=tokens_monthly&days=7").json()
    assert len(usage["series"]) == 7
    assert usage["series"][-1]["quantity"] == 50
    assert {meter["key"] for meter in usage["meters"]} == {"tokens_monthly", "workflow_runs_monthly", "searches_daily"}
    assert client.get("/api/entitlements/usage?days=9999").status_code == 422


def test_operators_replay_webhook_events_from_the_admin(db, client, settings) -> None:
    from django.contrib.auth import get_user_model

    settings.STRIPE_WEBHOOK_SECRET = "whsec_admin"
    admin = get_user_model().objects.create_superuser("root@example.com", "root@example.com", "pw-root-123456")
    event = WebhookEvent.objects.create(event_id="evt_admin", type="invoice.paid", status="unknown_customer",
                                        flagged=True, payload={"data": {"object": {"customer": "cus_x"}}})
    client.force_login(admin)
    response = client.post(reverse("admin:mozaiks_billing_webhookevent_changelist"),
                           {"action": "replay_events", "_selected_action": [event.pk]}, follow=True)
    assert "Replayed: 1 unknown_customer" in response.content.decode()
    event.refresh_from_db()
    assert event.attempts == 1
    for name in ["plan", "subscription", "webhookevent"]:
        assert client.get(reverse(f"admin:mozaiks_billing_{name}_changelist")).status_code == 200
    for name in ["entitlementoverride", "usageevent", "usagecounter"]:
        assert client.get(reverse(f"admin:mozaiks_entitlements_{name}_changelist")).status_code == 200
    plan = Plan.objects.get(plan_id="pro")
    assert client.get(reverse("admin:mozaiks_billing_plan_change", args=[plan.pk])).status_code == 200


def test_cancelling_a_trial_asks_first_and_says_it_ends_at_once(db, client) -> None:
    user, _ = make_member("trial-cancel@example.com")
    client.force_login(user)
    client.post("/billing/checkout/", {"plan_id": "pro", "interval": "month"})
    html = client.get("/billing/").content.decode()
    assert 'data-confirm="Cancel the Pro trial? It ends now and' in html
    assert "moves to the Free plan at once." in html
    assert 'class="button-danger">Cancel subscription' in html


def test_pricing_names_features_in_words_and_draws_its_marks(db, client) -> None:
    html = client.get("/billing/pricing/").content.decode()
    assert "API keys" in html.split("<main", 1)[1]
    assert "api_keys" not in html.split("<main", 1)[1]
    assert "✓" not in html, "a glyph that fonts may lack"
    assert "✗" not in html
    assert "Included:" in html
