"""Domain events: contract validation, the outbox, exactly-once delivery, retries and dead letters."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.packs.audit.models import ActivityEntry
from mozaiks_core.packs.notifications.models import Notification
from mozaiks_core.plugins import delivery, events
from mozaiks_core.plugins.actions import run_action
from mozaiks_core.plugins.events import EventError, publish
from mozaiks_core.plugins.models import EventDelivery, OutboxEvent
from mozaiks_core.plugins.tasks import deliver_events, sweep_outbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]


@pytest.fixture
def owner() -> Any:
    """Ada, whose organization has a teammate: notifications go to the people who did not act."""
    ada = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    add_teammate(ada)
    return ada


def add_teammate(user: Any) -> Any:
    """A second member of ``user``'s personal organization."""
    from mozaiks_core.auth.models import Membership

    mate = get_user_model().objects.create_user(username=f"mate-{user.pk}", email=f"mate-{user.pk}@example.com",
                                                password="pw-123456789")
    Membership.objects.create(user=mate, organization=ensure_personal_organization(user), role="member")
    return mate


def create_task(owner: Any, title: str = "Ship it") -> Any:
    return run_action("tasks", "create_task", {"title": title}, user=owner,
                      organization=ensure_personal_organization(owner), role="owner")


def test_only_declared_events_with_valid_payloads_can_be_published(owner: Any) -> None:
    with pytest.raises(EventError, match=r"'domain\.tasks\.exploded' is not declared by any loaded module"):
        publish("domain.tasks.exploded", {})
    with pytest.raises(EventError) as invalid:
        publish("domain.tasks.task_created", {"task_id": "seven", "title": "x"})
    assert invalid.value.code == "INVALID_PAYLOAD"
    assert invalid.value.field == "task_id"
    assert OutboxEvent.objects.count() == 0


def test_an_event_is_delivered_after_commit_to_every_reaction_with_the_full_envelope(owner: Any) -> None:
    create_task(owner)
    event = OutboxEvent.objects.get()
    envelope = event.envelope()
    assert envelope["event_type"] == "domain.tasks.task_created"
    assert envelope["actor"] == {"type": "user", "id": owner.pk, "label": "ada@example.com"}
    assert envelope["subject"]["type"] == "tasks.task"
    assert envelope["correlation_id"]
    assert envelope["causation_id"] is None
    assert set(envelope) >= {"event_id", "occurred_at", "payload"}
    assert event.status == OutboxEvent.Status.DONE
    assert sorted(EventDelivery.objects.values_list("reaction_key", "status")) == [
        ("audit.record", "delivered"), ("tasks.notify_team_on_create", "delivered")]
    assert Notification.objects.get(user__email=f"mate-{owner.pk}@example.com").title == "New task: Ship it"
    assert not Notification.objects.filter(user=owner).exists(), "nobody is notified of their own action"
    assert ActivityEntry.objects.get().event_type == "domain.tasks.task_created"


def test_a_rolled_back_change_never_reaches_the_outbox_or_a_reaction(owner: Any) -> None:
    def failing_request() -> None:
        with transaction.atomic():
            create_task(owner)
            raise RuntimeError("the request failed after publishing")

    with pytest.raises(RuntimeError):
        failing_request()
    assert OutboxEvent.objects.count() == 0
    assert Notification.objects.count() == 0


def test_a_crash_between_commit_and_dispatch_is_delivered_once_by_the_sweep(owner: Any,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "dispatch", lambda event_ids: None)  # the process dies before queueing
    create_task(owner)
    assert OutboxEvent.objects.get().status == OutboxEvent.Status.PENDING
    assert Notification.objects.count() == 0
    monkeypatch.setattr(delivery, "pending_event_ids",
                        lambda: [str(e) for e in OutboxEvent.objects.filter(status="pending")
                                 .values_list("event_id", flat=True)])
    assert sweep_outbox() == 1
    assert sweep_outbox() == 0
    assert Notification.objects.count() == 1
    assert ActivityEntry.objects.count() == 1


def test_duplicate_task_executions_deliver_each_reaction_exactly_once(owner: Any) -> None:
    create_task(owner)
    event_id = str(OutboxEvent.objects.get().event_id)
    deliver_events([event_id])
    deliver_events.apply(args=[[event_id]])
    for delivery_id in EventDelivery.objects.values_list("pk", flat=True):
        assert delivery.attempt_delivery(delivery_id) == "delivered"
    assert Notification.objects.count() == 1
    assert ActivityEntry.objects.count() == 1
    assert set(EventDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_failing_reaction_is_retried_with_backoff_then_dead_and_retryable(owner: Any, settings: Any,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MOZAIKS_EVENT_MAX_ATTEMPTS = 2
    from mozaiks_core.packs.audit.handler import AuditHandler

    def broken(self: Any, ctx: Any, envelope: Any) -> None:
        raise ValueError("audit store unavailable")

    monkeypatch.setattr(AuditHandler, "record", broken)
    create_task(owner)
    failed = EventDelivery.objects.get(reaction_key="audit.record")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "ValueError: audit store unavailable"
    assert failed.next_attempt_at > failed.updated_at.replace(microsecond=0)
    EventDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=failed.created_at)
    delivery.deliver(str(failed.event.event_id))
    dead = EventDelivery.objects.get(pk=failed.pk)
    assert (dead.status, dead.attempts) == ("dead", 2)
    assert EventDelivery.objects.get(reaction_key="tasks.notify_team_on_create").status == "delivered"

    monkeypatch.undo()
    delivery.retry_delivery(dead)
    assert EventDelivery.objects.get(pk=failed.pk).status == "delivered"
    assert ActivityEntry.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_workflow_reaction_without_the_runtime_dies_with_a_clear_delivery_error(owner: Any, settings: Any) -> None:
    from mozaiks_core.plugins.specs import ReactionSpec

    settings.MOZAIKS_WORKFLOW_RUN_STARTER = "mozaiks_core.runtime.services.start_background_run_missing"
    reaction = ReactionSpec(module_id="tasks", id="summarise", on="domain.tasks.task_created", kind="workflow",
                            capability_id="Summariser")
    with pytest.raises(delivery.DeliveryError, match=r"starts workflow capability 'Summariser', but the runtime's"):
        delivery.run_reaction(reaction, {"event_id": "x", "event_type": "domain.tasks.task_created",
                                         "organization_id": None, "actor": {}})


def test_events_of_one_transaction_are_dispatched_together_and_a_rollback_starts_a_new_batch(
        owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dispatched: list[list[str]] = []
    monkeypatch.setattr(events, "dispatch", dispatched.append)
    organization = ensure_personal_organization(owner)

    def publish_one(index: int) -> str:
        return str(publish("domain.tasks.task_created", {"task_id": index, "title": "t"}, actor=owner,
                           organization=organization).event_id)

    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 (the rollback is the point)
        publish_one(0)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        first = [publish_one(index) for index in range(1, 4)]
    second = publish_one(4)  # autocommit
    assert dispatched == [first, [second]]


SEEN: list[str] = []


def remember(envelope: dict[str, Any]) -> None:
    """A plugin reaction used below."""
    SEEN.append(envelope["event_type"])


def test_an_entry_point_plugin_reaction_receives_matching_events(owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_core.plugins import registry
    from mozaiks_core.plugins.plugin_host import LoadedPlugin, MozaiksPlugin

    class Listener(MozaiksPlugin):
        name = "listener"
        reactions = [{"id": "remember", "on": "domain.tasks.*", "handler": f"{__name__}:remember"}]

    monkeypatch.setattr(registry, "loaded_plugins", lambda: [LoadedPlugin("listener", "1", "loaded", plugin=Listener)])
    SEEN.clear()
    create_task(owner)
    assert SEEN == ["domain.tasks.task_created"]
    assert EventDelivery.objects.get(reaction_key="plugin.listener.remember").status == "delivered"


def test_a_notification_link_built_from_payload_cannot_become_a_script_url() -> None:
    from mozaiks_core.packs.notifications.services import render_text, safe_link

    envelope = {"payload": {"url": "javascript:alert(1)"}}
    assert safe_link(render_text("{payload.url}", envelope)) == ""
    assert safe_link(render_text("/tasks/{payload.url}", {"payload": {"url": "7"}})) == "/tasks/7"
    assert safe_link("//evil.example/x") == ""


def test_an_event_published_by_a_reaction_carries_its_cause_and_correlation(owner: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "dispatch", lambda event_ids: None)
    create_task(owner)
    cause = OutboxEvent.objects.get().envelope()
    with events.causing(cause):
        effect = publish("domain.tasks.task_completed", {"task_id": 1, "title": "Ship it"}, actor=None)
    assert effect.causation_id is not None
    assert str(effect.causation_id) == cause["event_id"]
    assert effect.correlation_id == cause["correlation_id"]
    assert effect.organization_id == cause["organization_id"]
    assert effect.envelope()["actor"] == {"type": "system"}
