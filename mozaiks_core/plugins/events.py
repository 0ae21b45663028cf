"""Domain events: ``publish`` validates against the declaring module's contract and writes the outbox.

The outbox row joins the caller's transaction; delivery is dispatched only after that
transaction commits, so a rolled-back change never reaches a reaction.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from mozaiks_core.plugins.documents import key_path
from mozaiks_core.plugins.models import EventDelivery, OutboxEvent
from mozaiks_core.plugins.registry import get_workspace

logger = logging.getLogger(__name__)
_batches = threading.local()
_current_event: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("mozaiks_event", default=None)


class EventError(ValueError):
    """An event that cannot be published: undeclared type or a payload that breaks its schema."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@contextlib.contextmanager
def causing(envelope: dict[str, Any]) -> Iterator[None]:
    """Events published inside this block are caused by ``envelope`` (causation and correlation ids)."""
    token = _current_event.set(envelope)
    try:
        yield
    finally:
        _current_event.reset(token)


def describe_actor(actor: Any) -> dict[str, Any]:
    """A user (or None for the system) as the envelope's ``actor``."""
    if actor is None:
        return {"type": "system"}
    if isinstance(actor, dict):
        return actor
    if getattr(actor, "is_authenticated", False):
        return {"type": "user", "id": actor.pk, "label": getattr(actor, "email", "") or str(actor)}
    return {"type": "anonymous"}


def describe_subject(subject: Any) -> dict[str, Any]:
    """A model instance (or a ``{"type", "id"}`` dict) as the envelope's ``subject``."""
    if subject is None:
        return {}
    if isinstance(subject, models.Model):
        return {"type": subject._meta.label_lower, "id": str(subject.pk), "label": str(subject)[:200]}
    if isinstance(subject, dict):
        return subject
    raise EventError("INVALID_SUBJECT", f"subject must be a model instance or a dict, not {type(subject).__name__}")


def validate_event(event_type: str, payload: Any) -> None:
    """Raise :class:`EventError` unless a loaded module declares ``event_type`` and ``payload`` fits it."""
    spec = get_workspace().event(event_type)
    if spec is None:
        raise EventError("UNDECLARED_EVENT", f"'{event_type}' is not declared by any loaded module; declare it in "
                         f"modules/<module>/contracts/events.yaml (types look like domain.<module>.<fact>)")
    errors = sorted(Draft202012Validator(spec.payload_schema).iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        field = key_path(errors[0].absolute_path) or "payload"
        raise EventError("INVALID_PAYLOAD", f"payload of {event_type} is invalid at '{field}': {errors[0].message}",
                         field=field)


def publish(event_type: str, payload: dict[str, Any], *, subject: Any = None, actor: Any = None,
            organization: Any = None, correlation_id: str | None = None) -> OutboxEvent:
    """Record a domain event in the outbox (inside the current transaction) and deliver it after commit."""
    validate_event(event_type, payload)
    cause = _current_event.get()
    if organization is None and isinstance(subject, models.Model):
        organization = getattr(subject, "organization", None)
    organization_id = getattr(organization, "pk", organization)
    if organization_id is None and cause is not None:
        organization_id = cause.get("organization_id")
    with transaction.atomic():  # the event and its delivery rows land together
        event = OutboxEvent.objects.create(
            event_id=uuid.uuid4(), event_type=event_type, module_id=event_type.split(".")[1],
            organization_id=organization_id, actor=describe_actor(actor), subject=describe_subject(subject),
            payload=payload, occurred_at=timezone.now(),
            correlation_id=correlation_id or (cause or {}).get("correlation_id") or uuid.uuid4().hex,
            causation_id=uuid.UUID(cause["event_id"]) if cause else None,
        )
        from mozaiks_core.plugins.delivery import delivery_rows

        EventDelivery.objects.bulk_create(delivery_rows(event))
    _dispatch_after_commit(str(event.event_id))
    return event


class _DispatchBatch:
    """Event ids published in one transaction, queued together (in chunks) once it commits."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    def flush(self) -> None:
        from mozaiks_core.plugins.delivery import BATCH_SIZE

        for start in range(0, len(self.event_ids), BATCH_SIZE):
            dispatch(self.event_ids[start:start + BATCH_SIZE])


def _dispatch_after_commit(event_id: str) -> None:
    """Coalesce the transaction's events into one after-commit dispatch (a 1000-event import is 20 tasks).

    The batch is reused while its callback is still pending on the connection; after a commit or a
    rollback (which discards the callback) the next event starts a new batch.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # autocommit: the row is already committed
        dispatch([event_id])
        return
    batch = getattr(_batches, "current", None)
    if batch is None or not any(entry[1] == batch.flush for entry in connection.run_on_commit):
        batch = _DispatchBatch()
        _batches.current = batch
        transaction.on_commit(batch.flush)
    batch.event_ids.append(event_id)


def dispatch(event_ids: list[str]) -> None:
    """Queue delivery of events; if the broker is down the periodic sweep delivers them later."""
    from mozaiks_core.plugins.tasks import deliver_events

    try:
        deliver_events.delay(event_ids)
    except Exception:  # the outbox rows are durable; the sweep retries
        logger.exception("could not queue delivery of %d event(s); the outbox sweep will retry", len(event_ids))
