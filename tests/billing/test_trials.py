"""Trials: one per organization, started on the first subscription, expired by the beat task with an email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mozaiks_core.billing.models import Plan, Subscription
from mozaiks_core.billing.services import change_plan
from mozaiks_core.billing.tasks import expire_trials
from mozaiks_core.celery import app as celery_app
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")


def test_the_first_subscription_to_a_plan_with_trial_days_starts_one_trial_only(db) -> None:
    _, org = make_member("trial@example.com")
    pro, team, free = (Plan.objects.get(plan_id=plan_id) for plan_id in ["pro", "team", "free"])
    first = change_plan(org, pro)
    assert first.status == "trialing"
    assert first.trial_used
    assert timedelta(days=13, hours=23) < first.trial_end - timezone.now() <= timedelta(days=14)
    change_plan(org, free)
    again = change_plan(org, pro)
    assert (again.status, again.trial_end) == ("active", None)
    assert change_plan(org, team).status == "active"  # team has no trial days


def test_the_beat_task_downgrades_lapsed_trials_and_emails_the_owners(db, django_capture_on_commit_callbacks) -> None:
    _owner, org = make_member("lapsed@example.com")
    make_member("lapsed-admin@example.com", organization=org, role="admin")
    make_member("lapsed-member@example.com", organization=org, role="member")
    _, running_org = make_member("running@example.com")
    change_plan(org, Plan.objects.get(plan_id="pro"))
    change_plan(running_org, Plan.objects.get(plan_id="pro"))
    Subscription.objects.filter(organization=org).update(trial_end=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_trials.delay().get() == 1
    lapsed = Subscription.objects.get(organization=org)
    assert (lapsed.plan.plan_id, lapsed.status) == ("free", "active")
    assert Subscription.objects.get(organization=running_org).status == "trialing"
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["lapsed-admin@example.com", "lapsed@example.com"]
    assert "Pro trial has ended" in mail.outbox[0].subject


def test_stripe_billed_trials_are_left_to_stripe(db) -> None:
    _, org = make_member("stripe-trial@example.com")
    Subscription.objects.create(organization=org, plan=Plan.objects.get(plan_id="pro"), status="trialing",
                                trial_end=timezone.now() - timedelta(hours=1), provider="stripe",
                                provider_subscription_id="sub_t")
    assert expire_trials.delay().get() == 0


def test_trial_expiry_and_webhook_retries_are_registered_beat_tasks() -> None:
    schedule = celery_app.conf.beat_schedule
    assert schedule["mozaiks-billing-expire-trials"]["task"] == "mozaiks.billing.expire_trials"
    assert schedule["mozaiks-billing-retry-webhooks"]["task"] == "mozaiks.billing.retry_failed_webhooks"
