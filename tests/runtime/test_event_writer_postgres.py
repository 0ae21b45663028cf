"""The event writer's batch on PostgreSQL: BEGIN, every statement and COMMIT in one round trip."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from mozaiks_core.entitlements.models import UsageCounter
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from mozaiks_core.runtime.runs.writer import EventRow, UsageRow, WriteEntry, _commit
from tests.runtime.transport.conftest import make_user, new_chat

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_db")]


def batch(session: ChatSession, first_seq: int, count: int, metered: list[Any]) -> list[WriteEntry]:
    now = timezone.now()
    entries = [WriteEntry(session.pk, session.chat_id, event=EventRow(
        session.pk, seq, "chat.text", '{"content": "hi"}', uuid.uuid4().hex, "", "run", now))
        for seq in range(first_seq, first_seq + count)]
    entries.append(WriteEntry(session.pk, session.chat_id, usage=UsageRow(
        session.pk, "Agent", "scripted", 10, 5, 15, session.workflow, session.user, session.organization,
        f"llm:{session.chat_id}:{first_seq}", now), on_metered=metered.append))
    return entries


def round_trips(action: Any) -> int:
    """How many times the server answered ReadyForQuery (once per synchronisation) during ``action``."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            pgconn.untrace()
        os.fsync(trace.fileno())
        trace.seek(0)
        return sum(1 for line in trace if "\tReadyForQuery" in line and line.split("\t")[1] == "B")


def test_a_batch_with_events_session_updates_and_metering_is_one_round_trip(transactional_db: None) -> None:
    session = new_chat(make_user("writer@example.com"), "ProductLaunch")
    metered: list[Any] = []
    _commit(batch(session, 0, 3, metered))  # warm: the entitlements are read once per max age
    assert round_trips(lambda: _commit(batch(session, 3, 20, metered))) == 1
    assert list(ChatEvent.objects.filter(chat=session).values_list("seq", flat=True).order_by("seq")) == list(range(23))
    assert ChatSession.objects.get(pk=session.pk).last_seq == 22
    assert UsageCounter.objects.get(organization=session.organization, meter="tokens_monthly").used == 30
    assert [budget.exhausted for budget in metered] == [False, False]


def test_a_failing_batch_commits_nothing(transactional_db: None) -> None:
    session = new_chat(make_user("writer-fail@example.com"), "ProductLaunch")
    _commit(batch(session, 0, 2, []))
    with pytest.raises(Exception, match=r"duplicate key|unique"):
        _commit(batch(session, 1, 3, []))  # seq 1 exists: the whole batch fails
    connection.close()
    assert list(ChatEvent.objects.filter(chat=session).values_list("seq", flat=True).order_by("seq")) == [0, 1]
    assert UsageCounter.objects.get(organization=session.organization, meter="tokens_monthly").used == 15
