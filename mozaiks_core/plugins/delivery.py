"""Deliver outbox events to reactions exactly once per (event, reaction), with retries and dead letters.

A delivery is claimed under a row lock (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's
``IMMEDIATE`` transactions serialize writers), and the reaction's database work commits in the
same transaction that marks it delivered: a duplicate task or a crash mid-way can never run a
reaction twice or lose it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from mozaiks_core.auth.models import Organization
from mozaiks_core.plugins.context import ModuleContext
from mozaiks_core.plugins.events import causing
from mozaiks_core.plugins.models import EventDelivery, OutboxEvent
from mozaiks_core.plugins.registry import all_reactions, get_workspace, import_dotted, method_for, reactions_for
from mozaiks_core.plugins.specs import ReactionSpec

logger = logging.getLogger(__name__)
WORKFLOW_RUN_STARTER = "mozaiks_core.runtime.services.start_background_run"
OPEN = (EventDelivery.Status.PENDING, EventDelivery.Status.FAILED)


class DeliveryError(RuntimeError):
    """A reaction that cannot run as declared (the message is stored on the delivery)."""


def max_attempts(reaction: ReactionSpec | None) -> int:
    """Attempts before a delivery is dead: the reaction's own ``max_attempts`` or the setting."""
    return (reaction.max_attempts if reaction and reaction.max_attempts else
            int(getattr(settings, "MOZAIKS_EVENT_MAX_ATTEMPTS", 5)))


def backoff(attempts: int) -> timedelta:
    """Exponential backoff from ``MOZAIKS_EVENT_RETRY_SECONDS``, capped at one hour."""
    base = float(getattr(settings, "MOZAIKS_EVENT_RETRY_SECONDS", 10))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def _actor_user(envelope: dict[str, Any]) -> Any:
    actor = envelope.get("actor") or {}
    if actor.get("type") != "user":
        return None
    return get_user_model().objects.filter(pk=actor.get("id")).first()


def run_reaction(reaction: ReactionSpec, envelope: dict[str, Any]) -> None:
    """Run one reaction for one event (inside the caller's transaction)."""
    if reaction.callable_path:
        import_dotted("", reaction.callable_path)(envelope)
        return
    organization = Organization.objects.filter(pk=envelope.get("organization_id")).first()
    if reaction.kind == "notification":
        from mozaiks_core.packs.notifications.services import notify_for_event

        notify_for_event(reaction, envelope, organization=organization, actor=_actor_user(envelope))
        return
    module = get_workspace().modules.get(reaction.module_id)
    if module is None:
        raise DeliveryError(f"module '{reaction.module_id}' of reaction '{reaction.key}' is not loaded")
    if reaction.kind == "handler":
        context = ModuleContext(module=module, user=_actor_user(envelope), organization=organization,
                                correlation_id=envelope.get("correlation_id", ""), event=envelope)
        method_for(module, reaction.handler_method)(context, envelope)
        return
    starter_path = getattr(settings, "MOZAIKS_WORKFLOW_RUN_STARTER", WORKFLOW_RUN_STARTER)
    try:
        starter = import_string(starter_path)
    except ImportError as exc:
        raise DeliveryError(f"reaction '{reaction.key}' starts workflow capability '{reaction.capability_id}', but "
                            f"the runtime's run starter {starter_path} is unavailable ({exc})") from exc
    starter(capability_id=reaction.capability_id, organization=organization, user=_actor_user(envelope),
            initial_message=reaction.message or envelope["event_type"], context={"event": envelope})


def ensure_deliveries(event: OutboxEvent) -> None:
    """Create the pending delivery rows of an event (idempotent under concurrency)."""
    existing = set(event.deliveries.values_list("reaction_key", flat=True))
    for reaction in reactions_for(event.event_type):
        if reaction.key in existing:
            continue
        try:
            with transaction.atomic():
                EventDelivery.objects.create(event=event, reaction_key=reaction.key, reaction_kind=reaction.kind,
                                             next_attempt_at=timezone.now())
        except IntegrityError:
            continue  # another worker created it first


def attempt_delivery(delivery_id: int) -> str:
    """Try one delivery once; returns its status afterwards. Safe to call twice concurrently."""
    reaction: ReactionSpec | None = None
    try:
        with transaction.atomic():
            delivery = EventDelivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
            if delivery.status not in OPEN:
                return delivery.status
            if delivery.next_attempt_at and delivery.next_attempt_at > timezone.now():
                return delivery.status
            reaction = all_reactions().get(delivery.reaction_key)
            if reaction is None:
                raise DeliveryError(f"reaction '{delivery.reaction_key}' no longer exists in the workspace")
            envelope = delivery.event.envelope()
            with causing(envelope):
                run_reaction(reaction, envelope)
            delivery.status = EventDelivery.Status.DELIVERED
            delivery.attempts += 1
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
            delivery.save(update_fields=["status", "attempts", "delivered_at", "last_error", "updated_at"])
            return delivery.status
    except Exception as exc:
        logger.warning("delivery %s failed: %r", delivery_id, exc)
        return _record_failure(delivery_id, reaction, exc)


def _record_failure(delivery_id: int, reaction: ReactionSpec | None, exc: Exception) -> str:
    with transaction.atomic():
        delivery = EventDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status not in OPEN:
            return delivery.status
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:4000]
        if delivery.attempts >= max_attempts(reaction) or isinstance(exc, DeliveryError):
            delivery.status = EventDelivery.Status.DEAD
        else:
            delivery.status = EventDelivery.Status.FAILED
            delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])
        return delivery.status


def deliver(event_id: str) -> float | None:
    """Deliver every due delivery of an event; returns seconds until the next retry (None when settled)."""
    event = OutboxEvent.objects.filter(event_id=event_id).first()
    if event is None:
        return None
    ensure_deliveries(event)
    now = timezone.now()
    for delivery_id in event.deliveries.filter(status__in=OPEN, next_attempt_at__lte=now).values_list("pk", flat=True):
        attempt_delivery(delivery_id)
    waiting = event.deliveries.filter(status__in=OPEN).order_by("next_attempt_at").first()
    if waiting is None:
        OutboxEvent.objects.filter(pk=event.pk).update(status=OutboxEvent.Status.DONE)
        return None
    return max((waiting.next_attempt_at - timezone.now()).total_seconds(), 0.0)


def retry_delivery(delivery: EventDelivery) -> None:
    """Operator action: give a dead or failed delivery a fresh start and queue it now."""
    from mozaiks_core.plugins.events import dispatch

    EventDelivery.objects.filter(pk=delivery.pk, status__in=[*OPEN, EventDelivery.Status.DEAD]).update(
        status=EventDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    OutboxEvent.objects.filter(pk=delivery.event_id).update(status=OutboxEvent.Status.PENDING)
    event_id = str(delivery.event.event_id)
    transaction.on_commit(lambda: dispatch(event_id))


def pending_event_ids(grace_seconds: float = 5.0, limit: int = 500) -> list[str]:
    """Events not settled yet and older than ``grace_seconds`` (their after-commit dispatch was lost)."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    rows = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, occurred_at__lte=cutoff)
    return [str(event_id) for event_id in rows.order_by("occurred_at").values_list("event_id", flat=True)[:limit]]
