"""Plain-SQL batch updates used by the event writer (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mozaiks_core.fast_sql import update_many_by_pk
from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import new_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]


def test_rows_with_the_same_fields_share_one_statement_and_each_row_gets_its_own_values(alice: Any) -> None:
    first, second, third = (new_chat(alice, "Chatter") for _ in range(3))
    with CaptureQueriesContext(connection) as queries:
        update_many_by_pk(ChatSession, {
            third.pk: {"last_seq": 7, "status": "running"},
            first.pk: {"last_seq": 3, "status": "waiting_input"},
            second.pk: {"last_seq": 5, "messages": [{"role": "user", "content": "hi"}]},
        })
    assert len(queries) == 2  # one executemany per set of field names
    rows = {row.pk: row for row in ChatSession.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert (rows[first.pk].last_seq, rows[first.pk].status) == (3, "waiting_input")
    assert (rows[third.pk].last_seq, rows[third.pk].status) == (7, "running")
    assert rows[second.pk].last_seq == 5
    assert rows[second.pk].messages == [{"role": "user", "content": "hi"}]
    assert rows[second.pk].status == second.status  # fields not named are left alone


def test_nothing_to_update_sends_nothing(alice: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        update_many_by_pk(ChatSession, {})
    assert len(queries) == 0


def test_a_conditional_update_stores_any_json_value_and_changes_only_matching_rows(alice: Any) -> None:
    from mozaiks_core.fast_sql import update_where
    from mozaiks_core.runtime.models import PendingRequest

    chat = new_chat(alice, "Chatter")
    for request_id in ("a", "b"):
        PendingRequest.objects.create(chat=chat, request_id=request_id, kind="ui_tool", seq=1, frame={})
    where = {"chat": chat.pk, "request_id": "a", "answered_at": None, "closed": False}
    assert update_where(PendingRequest, {"answered_at": "2026-01-01T00:00:00+00:00", "response": "plain text"},
                        where) == 1
    assert update_where(PendingRequest, {"response": {"second": True}}, where) == 0  # already answered
    answered = PendingRequest.objects.get(request_id="a")
    assert answered.response == "plain text"
    assert answered.answered_at is not None
    assert PendingRequest.objects.get(request_id="b").answered_at is None
