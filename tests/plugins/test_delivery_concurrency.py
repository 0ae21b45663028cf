"""Exactly-once delivery under real concurrency: parallel deliverers, and a real Celery worker on Redis."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.packs.audit.models import ActivityEntry
from mozaiks_core.packs.notifications.models import Notification
from mozaiks_core.plugins import delivery, events
from mozaiks_core.plugins.actions import run_action
from mozaiks_core.plugins.models import EventDelivery, OutboxEvent


@pytest.fixture
def owner(transactional_db: None) -> Any:
    from tests.plugins.test_events import add_teammate

    ada = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    add_teammate(ada)  # the one recipient of each notification (the actor is never notified)
    return ada


def create_tasks(owner: Any, count: int) -> list[str]:
    organization = ensure_personal_organization(owner)
    with transaction.atomic():
        for index in range(count):
            run_action("tasks", "create_task", {"title": f"Task {index}"}, user=owner, organization=organization,
                       role="owner")
    return [str(event_id) for event_id in OutboxEvent.objects.values_list("event_id", flat=True)]


def assert_delivered_once(count: int) -> None:
    assert Notification.objects.count() == count
    assert ActivityEntry.objects.count() == count
    assert set(EventDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert not OutboxEvent.objects.filter(status="pending").exists()


@pytest.mark.dbmatrix
def test_parallel_deliverers_of_the_same_events_run_each_reaction_exactly_once(
        owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "dispatch", lambda event_ids: None)
    event_ids = create_tasks(owner, 12)
    errors: list[BaseException] = []

    def deliverer() -> None:
        try:
            delivery.deliver(event_ids)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert_delivered_once(12)


@pytest.mark.redis
@pytest.mark.slow
def test_a_real_celery_worker_delivers_each_event_once_even_when_dispatched_three_times(
        owner: Any, celery_worker: Any, celery_broker: Any) -> None:
    worker = celery_worker(queues="mozaiks.default")
    celery_broker(worker.info["redis_url"])
    event_ids = create_tasks(owner, 10)  # dispatched once after commit
    events.dispatch(event_ids)
    events.dispatch(event_ids[:5])
    deadline = time.monotonic() + 30
    while OutboxEvent.objects.filter(status="pending").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # let the duplicate tasks finish too
    assert not OutboxEvent.objects.filter(status="pending").exists(), f"never delivered:\n{worker.log()[-3000:]}"
    assert_delivered_once(10)
    assert "mozaiks.plugins.deliver_events" in worker.log()
