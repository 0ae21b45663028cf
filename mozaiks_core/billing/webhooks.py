"""Webhook deliveries: stored first, processed once after commit, retried with backoff, replayable."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from mozaiks_core.billing.adapters import ParsedWebhook, WebhookSignatureError, get_adapter
from mozaiks_core.billing.models import WebhookEvent
from mozaiks_core.observability import metrics

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
STUCK_AFTER = timedelta(minutes=5)
PROGRESS_FIELDS = ("status", "error", "attempts", "next_attempt_at", "flagged")
FINAL_STATUSES = {WebhookEvent.Status.PROCESSED, WebhookEvent.Status.SKIPPED_STALE, WebhookEvent.Status.IGNORED}


def receive_webhook(provider: str, payload: bytes, headers: Mapping[str, str]) -> tuple[WebhookEvent, bool]:
    """Verify and store one delivery; returns (event, created). Raises WebhookSignatureError.

    A duplicate delivery only bumps ``deliveries``; a new event is queued after commit.
    """
    try:
        parsed = get_adapter(provider).parse_webhook(payload, headers)
    except WebhookSignatureError:
        metrics.webhook_outcome(provider, "rejected")
        raise
    return store_webhook(provider, parsed)


@transaction.atomic
def store_webhook(provider: str, parsed: ParsedWebhook) -> tuple[WebhookEvent, bool]:
    """Store a verified event once (the provider's event id is unique)."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(provider=provider, event_id=parsed.event_id, type=parsed.type,
                                                payload=parsed.payload, event_created_at=parsed.created)
    except IntegrityError:
        WebhookEvent.objects.filter(event_id=parsed.event_id).update(deliveries=F("deliveries") + 1)
        metrics.webhook_outcome(provider, "duplicate")
        return WebhookEvent.objects.get(event_id=parsed.event_id), False
    transaction.on_commit(lambda: enqueue(event.pk))
    return event, True


def enqueue(event_pk: int) -> None:
    """Hand the event to Celery (eager on the embedded default)."""
    from mozaiks_core.billing.tasks import process_webhook_event

    process_webhook_event.delay(event_pk)


def process_event(event_pk: int, *, replay: bool = False) -> str:
    """Apply one stored event at most once; failures are recorded with the next attempt time."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            return "missing"
        if event.status in FINAL_STATUSES and not replay:
            return event.status
        event.attempts += 1
        try:
            with transaction.atomic():
                status = get_adapter(event.provider).apply_webhook(event)
        except Exception as exc:  # any failure is recorded on the event and retried with backoff
            logger.exception("webhook %s (%s) failed", event.event_id, event.type)
            event.status = WebhookEvent.Status.FAILED
            event.error = f"{type(exc).__name__}: {exc}"[:2000]
            event.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** (event.attempts - 1))
            event.flagged = event.attempts >= MAX_ATTEMPTS
            event.save(update_fields=[*PROGRESS_FIELDS])
            metrics.webhook_outcome(event.provider, event.status)
            return event.status
        event.status = status
        event.error = ""
        event.next_attempt_at = None
        event.flagged = status == WebhookEvent.Status.UNKNOWN_CUSTOMER
        event.processed_at = timezone.now()
        event.save(update_fields=[*PROGRESS_FIELDS, "processed_at", "organization"])
        metrics.webhook_outcome(event.provider, status)
        return status


def replay(event_pk: int) -> str:
    """Re-apply an event on an operator's request (unknown customer now linked, a fixed failure)."""
    return process_event(event_pk, replay=True)


def retry_due() -> list[int]:
    """Process every failed event whose backoff has passed, and every stored event whose processing died (beat).

    An event still ``received`` after :data:`STUCK_AFTER` lost its after-commit task (a worker
    crash or a dropped database connection rolls back even the failure record), so it is due too.
    """
    now = timezone.now()
    failed = Q(status=WebhookEvent.Status.FAILED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now)
    stuck = Q(status=WebhookEvent.Status.RECEIVED, received_at__lte=now - STUCK_AFTER)
    due = list(WebhookEvent.objects.filter(failed | stuck).order_by("received_at").values_list("pk", flat=True)[:500])
    for event_pk in due:
        process_event(event_pk)
    return due
