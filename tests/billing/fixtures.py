"""Fixtures shared by the billing and entitlements tests: the test catalog and a clean plan-index cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from mozaiks_core.billing.plans import INDEX_CACHE_KEY
from tests.billing.support import WEBHOOK_SECRET, install_test_catalog


@pytest.fixture(autouse=True)
def _fresh_plan_index() -> Iterator[None]:
    """The plan index is cached; rolled-back tests must not leave their plans in it."""
    cache.delete(INDEX_CACHE_KEY)
    yield
    cache.delete(INDEX_CACHE_KEY)


@pytest.fixture
def plans(db: None) -> None:
    """The test catalog (free, pro, team) instead of the demo's."""
    install_test_catalog()


@pytest.fixture
def stripe_settings(settings: Any) -> Any:
    """Stripe keys for the adapter and the webhook endpoint (the provider stays local unless a test says)."""
    settings.STRIPE_SECRET_KEY = "sk_test_mozaiks"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings
