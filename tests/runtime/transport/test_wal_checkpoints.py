"""WAL checkpoints on the checkpointer's thread, not inside the loop's commits (SQLite leg only)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.db import connection

from mozaiks_core.db import sqlite_checkpoints
from mozaiks_core.db.async_db import call_on_loop
from mozaiks_core.db.sqlite_checkpoints import checkpointer, passive_checkpoint
from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import new_chat

pytestmark = pytest.mark.django_db(transaction=True)


def _write(pk: int, rounds: int = 20) -> None:
    for index in range(rounds):
        ChatSession.objects.filter(pk=pk).update(title=f"title {index} " + "x" * 150)


def on_a_thread(func: Any) -> Any:
    """``func()`` on a new thread (its own connection), as the checkpointer's thread runs it."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(func()))
    thread.start()
    thread.join(10)
    return result[0]


async def test_a_write_on_the_loop_has_the_thread_checkpoint_after_it(alice: Any) -> None:
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    before = checkpointer.completed
    call_on_loop(_write, chat.pk)
    for _ in range(100):
        if checkpointer.completed > before:
            break
        await asyncio.sleep(0.05)
    assert checkpointer.completed > before
    assert checkpointer.thread is not None
    assert checkpointer.thread.name == "mozaiks-wal-checkpoints"
    assert checkpointer.thread is not threading.current_thread()


async def test_once_the_thread_copied_the_log_the_loops_next_write_starts_it_over(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    monkeypatch.setattr(checkpointer, "request", lambda: None)  # this test drives the thread's part itself
    monkeypatch.setattr(sqlite_checkpoints, "START_OVER_PAGES", 1)
    call_on_loop(_write, chat.pk, 200)
    log_pages, copied = on_a_thread(checkpointer.run_once)
    assert log_pages > 0
    assert copied == log_pages
    assert checkpointer.caught_up
    call_on_loop(_write, chat.pk, 1)
    assert not checkpointer.caught_up
    after, _ = on_a_thread(passive_checkpoint)
    assert after < log_pages  # the log holds the last write only: it started over


def test_the_loops_connection_keeps_the_automatic_checkpoint_as_a_backstop() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] > 0


def _automatic_checkpoint_pages() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return int(cursor.fetchone()[0])


async def test_the_loops_connection_checkpoints_by_itself_only_beyond_the_start_over_threshold(alice: Any) -> None:
    """With SQLite's default (1,000 pages) the commit that passed it would copy the log on the loop
    before the thread's threshold (:data:`START_OVER_PAGES`) was reached."""
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    call_on_loop(_write, chat.pk, 1)

    pages = call_on_loop(_automatic_checkpoint_pages)

    assert pages == sqlite_checkpoints.LOOP_AUTOCHECKPOINT_PAGES > sqlite_checkpoints.START_OVER_PAGES


def test_the_loops_write_checkpoints_its_own_connection_only_after_the_thread_caught_up() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.sql: list[str] = []

        def execute(self, sql: str) -> Any:
            self.sql.append(sql)
            return self

        def fetchall(self) -> list[Any]:
            return []

    raw = Recorder()
    local = sqlite_checkpoints.Checkpointer()
    local.start_log_over(raw)
    assert raw.sql == []
    local.caught_up = True
    local.start_log_over(raw)
    assert raw.sql == ["PRAGMA wal_checkpoint(PASSIVE)"]
    assert not local.caught_up
    local.start_log_over(raw)
    assert len(raw.sql) == 1
