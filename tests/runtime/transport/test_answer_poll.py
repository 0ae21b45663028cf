"""The database fallback for answers: one poll per event loop reaches every waiting run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mozaiks_core.runtime import services
from mozaiks_core.runtime.engine.hooks import RunCancelled
from mozaiks_core.runtime.models import ChatSession, PendingRequest
from mozaiks_core.runtime.runs.answer_poll import _answers_and_cancellations
from mozaiks_core.runtime.runs.execution import RunService
from tests.runtime.transport.conftest import new_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def _unsubscribed_service(user: Any) -> tuple[ChatSession, RunService]:
    """A run service that never opened its channel-layer group: only the database can reach it."""
    session = await database_sync_to_async(new_chat)(user, "Chatter")
    session = await database_sync_to_async(ChatSession.objects.select_related("organization", "user").get)(
        pk=session.pk)
    return session, RunService(session, "")


async def _asked(session: ChatSession) -> PendingRequest:
    for _ in range(100):
        pending = await database_sync_to_async(lambda: PendingRequest.objects.filter(chat=session).first())()
        if pending is not None:
            return pending
        await asyncio.sleep(0.05)
    raise AssertionError("the run never stored its input request")


async def test_an_answer_that_reached_only_the_database_still_reaches_the_waiting_run(
    alice: Any, settings: Any
) -> None:
    settings.MOZAIKS_RUN_HEARTBEAT_SECONDS = 1  # polls every 0.5 s
    session, service = await _unsubscribed_service(alice)
    waiting = asyncio.ensure_future(service.request_input(agent="ChatterAgent", prompt="Your name?"))
    request = await _asked(session)
    await database_sync_to_async(services.answer_request)(
        session, request.request_id, {"text": "Ada"}, kind=PendingRequest.Kind.INPUT, publish=False)
    assert await asyncio.wait_for(waiting, 5) == "Ada"


async def test_a_cancellation_that_reached_only_the_database_stops_the_waiting_run(
    alice: Any, settings: Any
) -> None:
    settings.MOZAIKS_RUN_HEARTBEAT_SECONDS = 1
    session, service = await _unsubscribed_service(alice)
    waiting = asyncio.ensure_future(service.request_input(agent="ChatterAgent", prompt="Your name?"))
    await _asked(session)
    await database_sync_to_async(services.cancel_chat)(session)
    with pytest.raises(RunCancelled):
        await asyncio.wait_for(waiting, 5)
    assert service.cancelled


def test_one_poll_costs_two_queries_however_many_runs_wait(alice: Any) -> None:
    sessions = [new_chat(alice, "Chatter") for _ in range(3)]
    requests = [PendingRequest.objects.create(chat=sessions[index % 3], request_id=f"req-{index}", kind="input",
                                              seq=index, frame={}) for index in range(40)]
    PendingRequest.objects.filter(request_id__in=["req-3", "req-17"]).update(answered_at="2026-01-01T00:00:00Z",
                                                                             response={"text": "hi"})
    services.cancel_chat(sessions[2])
    with CaptureQueriesContext(connection) as queries:
        answers, cancelled = _answers_and_cancellations([r.request_id for r in requests], [s.pk for s in sessions])
    assert len(queries) == 2
    # cancel_chat closed the cancelled chat's open requests; answered ones keep their answers.
    assert answers == {"req-3": {"text": "hi"}, "req-17": {"text": "hi"}}
    assert cancelled == {sessions[2].pk}
