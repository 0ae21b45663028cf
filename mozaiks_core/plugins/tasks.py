"""Celery tasks of the plugin host: deliver outbox events, and sweep events whose dispatch was lost.

Tasks take event ids and re-read the database, so a duplicate or late execution is harmless. They
are bound to the project's Celery app (not ``shared_task``), so another Celery app created in the
same process can never capture them.
"""

from __future__ import annotations

from mozaiks_core.celery import app
from mozaiks_core.plugins import delivery
from mozaiks_core.plugins.models import OutboxEvent


@app.task(name="mozaiks.plugins.deliver_events", ignore_result=True)
def deliver_events(event_ids: list[str]) -> None:
    """Deliver every due reaction of these events; schedule itself again for deliveries waiting to retry."""
    wait = delivery.deliver(event_ids)
    # Eager mode ignores countdowns: the periodic sweep retries there instead of a tight loop.
    if wait is not None and not deliver_events.app.conf.task_always_eager:
        deliver_events.apply_async(args=[event_ids], countdown=max(wait, 1.0))


@app.task(name="mozaiks.plugins.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Deliver events whose after-commit dispatch never happened (a crash between commit and queueing)."""
    event_ids = delivery.pending_event_ids()
    for event in OutboxEvent.objects.filter(event_id__in=event_ids):
        delivery.ensure_deliveries(event)  # reactions added since the event was published
    for start in range(0, len(event_ids), delivery.BATCH_SIZE):
        delivery.deliver(event_ids[start:start + delivery.BATCH_SIZE])
    return len(event_ids)
