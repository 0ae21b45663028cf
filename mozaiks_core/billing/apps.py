"""App config: Billing."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save

logger = logging.getLogger(__name__)


def sync_catalog_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    """Copy subscriptions.yaml into the database after ``migrate`` (a broken file is reported, not fatal)."""
    from mozaiks_core.billing.catalog import CatalogError
    from mozaiks_core.billing.services import sync_plans

    try:
        report = sync_plans()
    except CatalogError as exc:
        for problem in exc.problems:
            logger.error("plans catalog not synced: %s", problem)
        return
    if report.created or report.updated or report.deactivated:
        logger.info("plans catalog synced: %s", report)


class MozaiksBillingConfig(AppConfig):
    """Billing: plans, subscriptions, provider adapters and webhooks."""

    name = "mozaiks_core.billing"
    label = "mozaiks_billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the catalog validator, the post-migrate sync, the plan-index cache and beat tasks."""
        from django.core import checks

        from mozaiks_core.billing.catalog import validate_catalog_file
        from mozaiks_core.billing.checks import catalog_check
        from mozaiks_core.billing.models import Plan
        from mozaiks_core.billing.plans import invalidate_plan_index
        from mozaiks_core.celery import register_periodic_task
        from mozaiks_core.validation import register_validator

        register_validator("billing", validate_catalog_file)
        checks.register(catalog_check, "mozaiks")
        post_migrate.connect(sync_catalog_after_migrate, sender=self, dispatch_uid="mozaiks_billing_sync_plans")
        post_save.connect(invalidate_plan_index, sender=Plan, dispatch_uid="mozaiks_billing_plan_saved")
        post_delete.connect(invalidate_plan_index, sender=Plan, dispatch_uid="mozaiks_billing_plan_deleted")
        register_periodic_task("mozaiks-billing-expire-trials", "mozaiks.billing.expire_trials", 3600.0)
        register_periodic_task("mozaiks-billing-retry-webhooks", "mozaiks.billing.retry_failed_webhooks", 60.0)
