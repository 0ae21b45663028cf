"""decide(): features, limits, meters, resets, soft limits, overrides, trials and unknown keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mozaiks_core.billing.models import Plan
from mozaiks_core.billing.services import change_plan
from mozaiks_core.entitlements.decisions import forget_entitlements
from mozaiks_core.entitlements.metering import consume
from mozaiks_core.entitlements.models import EntitlementOverride
from mozaiks_core.entitlements.periods import NEVER_START, period_bounds
from mozaiks_core.entitlements.services import decide
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")


@pytest.fixture
def org(db: None):
    return make_member("owner@example.com")[1]


def test_an_organization_without_subscription_gets_the_default_plans_features(org) -> None:
    assert decide(org, "chat").granted
    denied = decide(org, "export_chats")
    assert (denied.granted, denied.reason, denied.plan_id) == (False, "ENTITLEMENT_REQUIRED", "free")


def test_a_key_no_plan_declares_is_denied_as_unknown(org) -> None:
    decision = decide(org, "teleportation")
    assert (decision.granted, decision.reason) == (False, "UNKNOWN_KEY")


def test_a_key_only_a_higher_plan_declares_is_denied_with_entitlement_required(org) -> None:
    assert decide(org, "audit_log").reason == "ENTITLEMENT_REQUIRED"


def test_limits_report_their_value_and_zero_or_unlimited_behave(org) -> None:
    members = decide(org, "members")
    assert (members.granted, members.limit, members.kind) == (True, 3, "limit")
    assert decide(org, "api_keys").granted is False
    change_plan(org, Plan.objects.get(plan_id="team"))
    unlimited = decide(org, "members")
    assert (unlimited.granted, unlimited.limit) == (True, None)


def test_a_hard_meter_is_granted_until_used_up(org) -> None:
    for number in range(3):
        assert decide(org, "workflow_runs_monthly").granted
        assert consume(org, "workflow_runs_monthly", 1, f"run-{number}").granted
    decision = decide(org, "workflow_runs_monthly")
    assert (decision.granted, decision.reason, decision.used, decision.remaining) == (False, "LIMIT_EXCEEDED", 3, 0)
    assert decision.resets_at == period_bounds("month", timezone.now())[1]


def test_a_soft_meter_stays_granted_past_its_limit_with_a_warning_reason(org) -> None:
    consume(org, "searches_daily", 7, "searches-1", enforce=False)
    decision = decide(org, "searches_daily")
    assert (decision.granted, decision.reason, decision.soft, decision.used) == (True, "SOFT_LIMIT_EXCEEDED", True, 7)


def test_meters_reset_at_the_start_of_their_period() -> None:
    moment = datetime(2026, 3, 18, 15, 42, 10, tzinfo=UTC)  # a Wednesday
    hour = (datetime(2026, 3, 18, 15, tzinfo=UTC), datetime(2026, 3, 18, 16, tzinfo=UTC))
    assert period_bounds("hour", moment) == hour
    assert period_bounds("day", moment)[0] == datetime(2026, 3, 18, tzinfo=UTC)
    assert period_bounds("week", moment) == (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC))
    assert period_bounds("month", datetime(2026, 12, 31, tzinfo=UTC))[1] == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_bounds("never", moment) == (NEVER_START, None)


def test_usage_from_an_earlier_period_does_not_count_now(org) -> None:
    from mozaiks_core.entitlements.models import UsageCounter

    last_month = period_bounds("month", timezone.now())[0] - timedelta(days=3)
    UsageCounter.objects.create(organization=org, meter="workflow_runs_monthly",
                                period_start=period_bounds("month", last_month)[0], used=3)
    assert decide(org, "workflow_runs_monthly").used == 0


def test_overrides_grant_revoke_and_resize_for_one_organization(org) -> None:
    other = make_member("other@example.com")[1]
    EntitlementOverride.objects.create(organization=org, key="export_chats", granted=True)
    EntitlementOverride.objects.create(organization=org, key="chat", granted=False)
    EntitlementOverride.objects.create(organization=org, key="members", limit=25)
    EntitlementOverride.objects.create(organization=org, key="workflow_runs_monthly", unlimited=True)
    EntitlementOverride.objects.create(organization=org, key="tokens_monthly", enforcement="soft")
    assert decide(org, "export_chats").granted
    assert not decide(org, "chat").granted
    assert decide(org, "members").limit == 25
    assert decide(org, "workflow_runs_monthly").limit is None
    assert decide(org, "tokens_monthly").soft is True
    assert not decide(other, "export_chats").granted
    assert decide(other, "members").limit == 3


def test_an_expired_override_no_longer_applies(org) -> None:
    EntitlementOverride.objects.create(organization=org, key="export_chats", granted=True,
                                       expires_at=timezone.now() - timedelta(minutes=1))
    assert not decide(org, "export_chats").granted


def test_a_running_trial_grants_the_trial_plan_and_a_lapsed_one_falls_back_to_default(org) -> None:
    subscription = change_plan(org, Plan.objects.get(plan_id="pro"))
    assert subscription.status == "trialing"
    assert decide(org, "export_chats").granted
    subscription.trial_end = timezone.now() - timedelta(seconds=1)
    subscription.save()
    forget_entitlements(org)
    decision = decide(org, "export_chats")
    assert (decision.granted, decision.plan_id) == (False, "free")


def test_a_canceled_subscription_falls_back_to_the_default_plan(org) -> None:
    subscription = change_plan(org, Plan.objects.get(plan_id="team"))
    subscription.status = "canceled"
    subscription.save()
    forget_entitlements(org)
    assert decide(org, "audit_log").reason == "ENTITLEMENT_REQUIRED"


def test_deciding_many_keys_in_one_request_costs_at_most_three_queries(org) -> None:
    decide(org, "chat")  # warm the plan index (cached across requests)
    forget_entitlements(org)
    with CaptureQueriesContext(connection) as queries:
        for key in ["chat", "export_chats", "members", "api_keys", "tokens_monthly", "workflow_runs_monthly", "nope"]:
            decide(org, key)
    assert len(queries) <= 3, [query["sql"] for query in queries]  # rules, meter counters, counted limits


@pytest.mark.parametrize("key", ["chat", "members", "tokens_monthly"])
def test_one_gated_key_of_any_kind_costs_at_most_two_queries(org, key) -> None:
    decide(org, "chat")
    forget_entitlements(org)
    with CaptureQueriesContext(connection) as queries:
        decide(org, key)
    assert len(queries) <= 2, [query["sql"] for query in queries]


def test_a_subject_without_an_organization_is_denied() -> None:
    assert decide(object(), "chat").reason == "NO_ORGANIZATION"
