"""Deliver outbox events to reactions exactly once per (event, reaction), with retries and dead letters.

A delivery is claimed under a row lock (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's
``IMMEDIATE`` transactions serialize writers), and the reaction's database work commits in the
same transaction that marks it delivered: a duplicate task or a crash mid-way can never run a
reaction twice or lose it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Min
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
BATCH_SIZE = 50  # events per delivery task and per transaction


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


@dataclass
class EventScope:
    """What every reaction of one event needs, read once per delivery run."""

    envelope: dict[str, Any]
    organization: Any
    actor: Any

    @classmethod
    def for_events(cls, events: list[OutboxEvent]) -> dict[int, EventScope]:
        """Scopes of many events with two queries (organizations, acting users), keyed by event pk."""
        organizations = Organization.objects.in_bulk({event.organization_id for event in events} - {None})
        actor_ids = {event.actor.get("id") for event in events if event.actor.get("type") == "user"}
        users = get_user_model().objects.in_bulk(actor_ids - {None})
        return {event.pk: cls(event.envelope(), organizations.get(event.organization_id),
                              users.get(event.actor.get("id")) if event.actor.get("type") == "user" else None)
                for event in events}


def run_reaction(reaction: ReactionSpec, envelope: dict[str, Any], scope: EventScope | None = None) -> None:
    """Run one reaction for one event (inside the caller's transaction)."""
    if reaction.callable_path:
        import_dotted("", reaction.callable_path)(envelope)
        return
    if scope is None:
        organization = Organization.objects.filter(pk=envelope.get("organization_id")).first()
        scope = EventScope(envelope, organization, _actor_user(envelope))
    if reaction.kind == "notification":
        from mozaiks_core.packs.notifications.services import notify_for_event

        notify_for_event(reaction, envelope, organization=scope.organization, actor=scope.actor)
        return
    module = get_workspace().modules.get(reaction.module_id)
    if module is None:
        raise DeliveryError(f"module '{reaction.module_id}' of reaction '{reaction.key}' is not loaded")
    if reaction.kind == "handler":
        context = ModuleContext(module=module, user=scope.actor, organization=scope.organization,
                                correlation_id=envelope.get("correlation_id", ""), event=envelope)
        method_for(module, reaction.handler_method)(context, envelope)
        return
    starter_path = getattr(settings, "MOZAIKS_WORKFLOW_RUN_STARTER", WORKFLOW_RUN_STARTER)
    try:
        starter = import_string(starter_path)
    except ImportError as exc:
        raise DeliveryError(f"reaction '{reaction.key}' starts workflow capability '{reaction.capability_id}', but "
                            f"the runtime's run starter {starter_path} is unavailable ({exc})") from exc
    starter(capability_id=reaction.capability_id, organization=scope.organization, user=scope.actor,
            initial_message=reaction.message or envelope["event_type"], context={"event": envelope})


def delivery_rows(event: OutboxEvent) -> list[EventDelivery]:
    """Unsaved pending deliveries, one per reaction listening to the event."""
    return [EventDelivery(event=event, reaction_key=reaction.key, reaction_kind=reaction.kind,
                          next_attempt_at=event.occurred_at) for reaction in reactions_for(event.event_type)]


def ensure_deliveries(event: OutboxEvent) -> None:
    """Create missing delivery rows (``publish`` creates them; this covers reactions added since)."""
    existing = set(event.deliveries.values_list("reaction_key", flat=True))
    missing = [row for row in delivery_rows(event) if row.reaction_key not in existing]
    if missing:
        EventDelivery.objects.bulk_create(missing, ignore_conflicts=True)


def _attempt(delivery: EventDelivery, reactions: dict[str, ReactionSpec], scope: EventScope) -> bool:
    """One attempt inside the event's transaction; a failure rolls back only this reaction's savepoint
    and is recorded on the delivery. Returns whether the reaction succeeded."""
    reaction = reactions.get(delivery.reaction_key)
    try:
        with transaction.atomic():
            if reaction is None:
                raise DeliveryError(f"reaction '{delivery.reaction_key}' no longer exists in the workspace")
            with causing(scope.envelope):
                run_reaction(reaction, scope.envelope, scope)
    except Exception as exc:
        logger.warning("delivery of %s to %s failed: %r", scope.envelope["event_id"], delivery.reaction_key, exc)
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:4000]
        if delivery.attempts >= max_attempts(reaction) or isinstance(exc, DeliveryError):
            delivery.status = EventDelivery.Status.DEAD
        else:
            delivery.status = EventDelivery.Status.FAILED
            delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])
        return False
    return True


def _deliver_locked(events: dict[int, OutboxEvent], only: int | None = None) -> float | None:
    """Lock the due deliveries (a duplicate run waits, then finds them done) and attempt each one."""
    due = EventDelivery.objects.select_for_update(of=("self",)).filter(
        event_id__in=list(events), status__in=OPEN, next_attempt_at__lte=timezone.now()).order_by("event_id", "pk")
    rows = list(due.filter(pk=only) if only is not None else due)
    if rows:
        reactions = all_reactions()
        scopes = EventScope.for_events([events[pk] for pk in {row.event_id for row in rows}])
        delivered = [row.pk for row in rows if _attempt(row, reactions, scopes[row.event_id])]
        now = timezone.now()
        EventDelivery.objects.filter(pk__in=delivered).update(
            status=EventDelivery.Status.DELIVERED, attempts=F("attempts") + 1, delivered_at=now, last_error="",
            updated_at=now)
    waiting = dict(EventDelivery.objects.filter(event_id__in=list(events), status__in=OPEN)
                   .values("event_id").annotate(next_at=Min("next_attempt_at")).values_list("event_id", "next_at"))
    settled = [pk for pk, event in events.items() if pk not in waiting and event.status != OutboxEvent.Status.DONE]
    if settled:
        OutboxEvent.objects.filter(pk__in=settled).update(status=OutboxEvent.Status.DONE)
    if not waiting:
        return None
    return max((min(waiting.values()) - timezone.now()).total_seconds(), 0.0)


def deliver(event_ids: str | list[str]) -> float | None:
    """Deliver every due delivery of the events in one transaction; seconds until the next retry, or None.

    A failing reaction rolls back only its own savepoint; a crash rolls back the whole batch,
    which the sweep then delivers again (still once per reaction).
    """
    ids = [event_ids] if isinstance(event_ids, str) else list(event_ids)
    with transaction.atomic():
        events = {event.pk: event for event in OutboxEvent.objects.filter(event_id__in=ids)}
        return _deliver_locked(events) if events else None


def attempt_delivery(delivery_id: int) -> str:
    """Attempt one delivery now if it is due; returns its status afterwards (safe to repeat)."""
    delivery = EventDelivery.objects.select_related("event").get(pk=delivery_id)
    with transaction.atomic():
        _deliver_locked({delivery.event_id: delivery.event}, only=delivery_id)
    return EventDelivery.objects.values_list("status", flat=True).get(pk=delivery_id)


def retry_delivery(delivery: EventDelivery) -> None:
    """Operator action: give a dead or failed delivery a fresh start and queue it now."""
    from mozaiks_core.plugins.events import dispatch

    EventDelivery.objects.filter(pk=delivery.pk, status__in=[*OPEN, EventDelivery.Status.DEAD]).update(
        status=EventDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    OutboxEvent.objects.filter(pk=delivery.event_id).update(status=OutboxEvent.Status.PENDING)
    event_ids = [str(delivery.event.event_id)]
    transaction.on_commit(lambda: dispatch(event_ids))


def pending_event_ids(grace_seconds: float = 5.0, limit: int = 500) -> list[str]:
    """Events not settled yet and older than ``grace_seconds`` (their after-commit dispatch was lost)."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    rows = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, occurred_at__lte=cutoff)
    return [str(event_id) for event_id in rows.order_by("occurred_at").values_list("event_id", flat=True)[:limit]]
