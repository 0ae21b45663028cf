"""Plain-SQL batch updates used by the event writer (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mozaiks_core.db.fast_sql import update_many_by_pk
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
    assert len(queries) == 2  # one statement per set of field names
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
    from mozaiks_core.db.fast_sql import update_where
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


def test_many_rows_are_inserted_in_order_with_their_json_and_duplicates_skipped(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from django.utils import timezone

    from mozaiks_core.db import fast_sql
    from mozaiks_core.runtime.models import ChatEvent

    monkeypatch.setattr(fast_sql, "MULTI_ROW_INSERT", 10)  # 25 rows: statements of 10, 10 and 5 on PostgreSQL
    monkeypatch.setattr(fast_sql, "SQLITE_MAX_PARAMETERS", 87)  # 8 columns: 10 rows per statement on SQLite
    session = new_chat(alice, "Chatter")
    now = timezone.now()
    columns = ("chat_id", "seq", "type", "payload", "event_id", "causation_id", "run_id", "created_at")

    def rows(seqs: range) -> list[tuple[Any, ...]]:
        return [(session.pk, seq, "chat.text", {"content": f"message {seq}", "n": seq}, uuid.uuid4().hex, "", "r", now)
                for seq in seqs]

    with CaptureQueriesContext(connection) as queries:
        fast_sql.insert_many(ChatEvent, columns, rows(range(25)))
    assert len(queries) == 3
    assert all(query["sql"].count("), (") == rows_in_statement - 1
               for query, rows_in_statement in zip(queries, (10, 10, 5), strict=True))  # multi-row, not per row
    stored = list(ChatEvent.objects.filter(chat=session).order_by("seq"))
    assert [event.seq for event in stored] == list(range(25))
    assert stored[24].payload == {"content": "message 24", "n": 24}
    fast_sql.insert_many(ChatEvent, columns, [(session.pk, 99, "chat.text", {}, stored[0].event_id, "", "r", now)],
                         skip_conflicts_on="event_id")  # event_id is unique: skipped, no error
    assert ChatEvent.objects.filter(chat=session).count() == 25


def test_a_null_in_the_first_row_does_not_change_the_type_of_the_others(alice: Any) -> None:
    from django.utils import timezone

    first, second = new_chat(alice, "Chatter"), new_chat(alice, "Chatter")
    now = timezone.now()
    update_many_by_pk(ChatSession, {
        first.pk: {"heartbeat_at": None, "last_artifact": None, "last_seq": 1},
        second.pk: {"heartbeat_at": now, "last_artifact": {"eventId": "e1"}, "last_seq": 2},
    })
    rows = {row.pk: row for row in ChatSession.objects.filter(pk__in=[first.pk, second.pk])}
    assert (rows[first.pk].heartbeat_at, rows[first.pk].last_artifact, rows[first.pk].last_seq) == (None, None, 1)
    assert (rows[second.pk].heartbeat_at, rows[second.pk].last_artifact, rows[second.pk].last_seq) == (
        now, {"eventId": "e1"}, 2)


def test_datetimes_are_adapted_exactly_as_the_backend_adapts_them() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from mozaiks_core.db.fast_sql import _adapted

    values = [datetime(2026, 12, 6, 18, 30, 5, 123456, tzinfo=UTC),
              datetime(2026, 12, 6, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30))),
              datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-8)))]

    assert _adapted(values) == [connection.ops.adapt_datetimefield_value(value) for value in values]


def test_rows_are_adapted_only_in_their_datetime_and_json_columns_and_in_columns_the_model_lacks() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from mozaiks_core.db.fast_sql import _adapted, _adapted_rows
    from mozaiks_core.runtime.models import PendingRequest

    columns = ("chat_id", "request_id", "kind", "seq", "frame", "closed", "created_at", "not_a_column")
    moment = datetime(2026, 12, 6, 18, 30, 5, 123456, tzinfo=UTC)
    elsewhere = datetime(2026, 12, 6, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    rows = [(7, "r1", "input", 3, {"text": "hi"}, False, moment, {"odd": 1}),
            (8, "r2", "input", 4, '{"already": "json"}', False, elsewhere, elsewhere),
            (9, "r3", "input", 5, None, True, None, "plain")]

    # The same values as adapting every value (what the writer did before), row after row.
    assert _adapted_rows(PendingRequest, columns, rows) == _adapted(value for row in rows for value in row)
    # A column of another type keeps its value as it is, even one adapting would have changed.
    assert _adapted_rows(PendingRequest, ("request_id",), [({"kept": True},)]) == [{"kept": True}]


def test_statements_are_built_once_per_shape_and_database_vendor() -> None:
    from mozaiks_core.db import fast_sql
    from mozaiks_core.runtime.models import ChatEvent

    fast_sql._cached_insert_sql.cache_clear()
    first = fast_sql._insert_sql(ChatEvent, ["chat_id", "seq"], 2, None)
    again = fast_sql._insert_sql(ChatEvent, ("chat_id", "seq"), 2, None)
    assert again is first  # the cached string
    assert fast_sql._cached_insert_sql.cache_info().hits == 1
    assert first.count("(%s, %s") == 2  # two rows of placeholders
    assert fast_sql._insert_sql(ChatEvent, ["chat_id", "seq"], 3, "seq") != first
    assert fast_sql._cached_insert_sql(connection.vendor, ChatEvent, ("chat_id", "seq"), 2, None) is first
    assert fast_sql._cached_insert_sql("other", ChatEvent, ("chat_id", "seq"), 2, None) is not first


def test_updates_of_more_rows_than_one_statement_carries_are_split_and_all_applied(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mozaiks_core.db import fast_sql

    monkeypatch.setattr(fast_sql, "MULTI_ROW_INSERT", 2)
    monkeypatch.setattr(fast_sql, "SQLITE_MAX_PARAMETERS", 7)  # 2 fields and the key: 2 rows per statement
    chats = [new_chat(alice, "Chatter") for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        update_many_by_pk(ChatSession, {chat.pk: {"last_seq": 10 + index, "status": "running"}
                                        for index, chat in enumerate(chats)})
    assert len(queries) == 3  # 2 + 2 + 1 rows
    stored = {row.pk: row for row in ChatSession.objects.filter(pk__in=[chat.pk for chat in chats])}
    assert [(stored[chat.pk].last_seq, stored[chat.pk].status) for chat in chats] == [
        (10 + index, "running") for index in range(5)]


def test_placeholders_are_numbered_for_postgresql_in_order_and_literal_percent_signs_kept() -> None:
    from mozaiks_core.db.fast_sql import _numbered

    assert _numbered("INSERT INTO t (a, b) VALUES (%s, %s::jsonb), (%s, %s::jsonb)") == (
        "INSERT INTO t (a, b) VALUES ($1, $2::jsonb), ($3, $4::jsonb)")
    assert _numbered("SELECT %s WHERE name LIKE 'a%%'") == "SELECT $1 WHERE name LIKE 'a%'"
    assert _numbered("SELECT '%%s', %s") == "SELECT '%s', $1"  # an escaped percent before an s


def test_big_statements_bind_their_values_apart_and_store_the_same_rows(alice: Any) -> None:
    import uuid

    from django.utils import timezone

    from mozaiks_core.db import fast_sql
    from mozaiks_core.runtime.models import ChatEvent

    session = new_chat(alice, "Chatter")
    now = timezone.now()
    columns = ("chat_id", "seq", "type", "payload", "event_id", "causation_id", "run_id", "created_at")
    payloads = [{"content": "dict"}, '{"already": "json text"}', ["a", 1], {"quote": "it's 100%"}]
    rows = [(session.pk, seq, "chat.text", payloads[seq % 4], uuid.uuid4().hex, "", "r", now) for seq in range(8)]
    assert len(rows) * len(columns) > fast_sql.RAW_CURSOR_ABOVE_PARAMETERS

    with CaptureQueriesContext(connection) as queries:
        fast_sql.insert_many(ChatEvent, columns, rows[:6])  # 48 parameters: psycopg's own cursor
        fast_sql.insert_many(ChatEvent, columns, rows[6:] + [
            (session.pk, seq, "chat.text", {"n": seq}, uuid.uuid4().hex, "", "r", now) for seq in range(8, 14)])
    small, big = (query["sql"] for query in queries)
    if connection.vendor == "postgresql":
        assert "$1" not in small  # values composed into the text client-side
        assert "%s" not in big  # native placeholders, values bound apart
        assert "($1, $2, $3, $4::jsonb" in big
        assert "$64)" in big
    stored = {event.seq: event for event in ChatEvent.objects.filter(chat=session)}
    assert [stored[seq].payload for seq in range(8)] == [
        {"content": "dict"}, {"already": "json text"}, ["a", 1], {"quote": "it's 100%"}] * 2
    assert (stored[13].payload, stored[13].created_at) == ({"n": 13}, now)
