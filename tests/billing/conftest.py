"""Billing test fixtures: the shared billing catalog fixtures (tests/billing/fixtures.py)."""

from tests.billing.fixtures import _fresh_plan_index, plans, stripe_settings

__all__ = ["_fresh_plan_index", "plans", "stripe_settings"]
