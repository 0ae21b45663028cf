"""Celery tasks of billing: they take ids, re-fetch, and call the services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="mozaiks.billing.process_webhook_event", ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event (a failure is recorded and retried by ``retry_failed_webhooks``)."""
    from mozaiks_core.billing.webhooks import process_event

    return process_event(event_pk)


@shared_task(name="mozaiks.billing.retry_failed_webhooks", ignore_result=True)
def retry_failed_webhooks() -> int:
    """Beat: retry failed webhook events whose backoff has passed."""
    from mozaiks_core.billing.webhooks import retry_due

    return len(retry_due())


@shared_task(name="mozaiks.billing.expire_trials", ignore_result=True)
def expire_trials() -> int:
    """Beat: downgrade lapsed trials to the default plan and notify the organizations' managers."""
    from mozaiks_core.billing.services import expire_trials as expire

    return len(expire())


@shared_task(bind=True, name="mozaiks.billing.report_usage", ignore_result=True, max_retries=6)
def report_usage(self: object, organization_id: int, event_name: str, quantity: int, identifier: str) -> bool:
    """Report metered usage to the provider; network failures retry with backoff (the identifier dedupes)."""
    from mozaiks_core.auth.models import Organization
    from mozaiks_core.billing.adapters import BillingError, get_adapter

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return False
    try:
        return get_adapter().report_usage(organization=organization, event_name=event_name, quantity=quantity,
                                          identifier=identifier)
    except BillingError as exc:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            logger.warning("usage report %s for organization %s failed: %s", identifier, organization_id, exc)
            return False
        raise self.retry(exc=exc, countdown=min(30 * 2 ** self.request.retries, 3600)) from exc  # type: ignore[attr-defined]
