"""SQLite writes on the event loop's thread, never waiting there for another connection's lock.

SQLite only: these tests carry no ``postgres``/``dbmatrix`` mark, so they run in the SQLite leg.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from mozaiks_core.db.async_db import LockBusy, call_on_loop, db_write, suspended_loop, writes_on_loop
from mozaiks_core.runtime.engine.on_loop import ResumeTurns, _turns
from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import new_chat
from tests.support.loop import loop_ticks


@pytest.fixture
def hold_lock() -> Iterator[Callable[[], threading.Event]]:
    """Call it to make another connection take SQLite's write lock until the returned event is set."""
    holders: list[tuple[threading.Thread, threading.Event]] = []

    def take() -> threading.Event:
        release, held = threading.Event(), threading.Event()

        def hold() -> None:
            other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(10)
            other.execute("COMMIT")
            other.close()

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        assert held.wait(5)
        holders.append((thread, release))
        return release

    yield take
    for thread, release in holders:
        release.set()
        thread.join(5)


def _rename(pk: int, title: str) -> int:
    ChatSession.objects.filter(pk=pk).update(title=title)
    return threading.get_ident()


@pytest.mark.django_db(transaction=True)
async def test_a_write_runs_on_the_loop_thread_and_a_run_it_starts_is_scheduled_on_the_loop(alice: Any) -> None:
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    loops: list[Any] = []

    def write() -> int:
        loops.append(suspended_loop())
        return _rename(chat.pk, "written on the loop")

    assert writes_on_loop()
    assert call_on_loop(write) == threading.get_ident()
    assert loops == [asyncio.get_running_loop()]  # what the in-process executor schedules a run on
    assert suspended_loop() is None
    assert asyncio.get_running_loop() is not None  # the running loop is back
    stored = await asyncio.to_thread(lambda: ChatSession.objects.get(pk=chat.pk).title)
    assert stored == "written on the loop"


@pytest.mark.django_db(transaction=True)
async def test_a_locked_database_is_reported_at_once_and_the_write_goes_to_a_thread(
    alice: Any, hold_lock: Callable[[], threading.Event]
) -> None:
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    lock_held_elsewhere = hold_lock()
    started = time.monotonic()
    with pytest.raises(LockBusy):
        call_on_loop(_rename, chat.pk, "never")
    assert time.monotonic() - started < 0.5  # no busy wait on the loop (the connections' timeout is seconds)

    asyncio.get_running_loop().call_later(0.3, lock_held_elsewhere.set)
    async with loop_ticks() as ticks:
        thread = await db_write(_rename)(chat.pk, "after the lock")
    assert thread != threading.get_ident()  # waited for the lock on the database thread
    assert ticks.count >= 10  # while the loop went on
    stored = await asyncio.to_thread(lambda: ChatSession.objects.get(pk=chat.pk).title)
    assert stored == "after the lock"


@pytest.mark.django_db(transaction=True)
def test_after_a_call_on_the_loop_the_threads_own_orm_calls_wait_for_the_lock_again(
    alice: Any, hold_lock: Callable[[], threading.Event]
) -> None:
    """The loop's thread may go on with synchronous ORM calls once its loop is gone (a management
    command, an eager Celery task or a benchmark that ran one): they share the connection and must
    wait for another connection's lock as configured, not fail with "database is locked"."""
    chat = new_chat(alice, "Chatter")

    async def on_the_loop() -> int:
        return call_on_loop(_rename, chat.pk, "on the loop")

    assert asyncio.run(on_the_loop()) == threading.get_ident()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == connection.settings_dict["OPTIONS"]["timeout"] * 1000

    lock_held_elsewhere = hold_lock()
    threading.Timer(0.3, lock_held_elsewhere.set).start()
    started = time.monotonic()
    _rename(chat.pk, "after the loop")  # raised OperationalError at once while the loop's setting stuck
    assert time.monotonic() - started >= 0.25
    assert ChatSession.objects.get(pk=chat.pk).title == "after the loop"


@pytest.mark.django_db(transaction=True)
async def test_the_event_writer_commits_on_the_thread_when_the_lock_is_taken(
    alice: Any, hold_lock: Callable[[], threading.Event]
) -> None:
    from mozaiks_core.runtime.models import ChatEvent
    from mozaiks_core.runtime.runs import writer

    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    lock_held_elsewhere = hold_lock()
    threads: list[int] = []
    commit = writer._commit

    def recorded(entries: list[writer.WriteEntry]) -> None:
        threads.append(threading.get_ident())
        commit(entries)

    event = writer.EventRow(chat.pk, 1, "chat.text", "{}", "e-locked", "", "r", chat.created_at)
    entry = writer.WriteEntry(chat.pk, chat.chat_id, event=event)
    asyncio.get_running_loop().call_later(0.2, lock_held_elsewhere.set)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_commit", recorded)
        await writer._in_db_thread([entry])
    assert len(threads) == 2
    assert threads[0] == threading.get_ident() != threads[1]
    assert await asyncio.to_thread(lambda: ChatEvent.objects.filter(chat_id=chat.pk).count()) == 1


@pytest.mark.django_db(transaction=True)
async def test_writes_stay_on_threads_when_switched_off(settings: Any, alice: Any) -> None:
    settings.MOZAIKS_SQLITE_WRITES_ON_LOOP = False
    chat = await asyncio.to_thread(new_chat, alice, "Chatter")
    assert not writes_on_loop()
    assert await db_write(_rename)(chat.pk, "on a thread") != threading.get_ident()


async def test_at_most_n_runs_resume_per_loop_iteration_in_order_of_arrival() -> None:
    loop = asyncio.get_running_loop()
    turns = ResumeTurns(loop, per_iteration=2)
    resumed: list[tuple[int, int]] = []
    iteration = 0

    def count() -> None:
        nonlocal iteration
        iteration += 1
        if iteration < 20:
            loop.call_soon(count)

    loop.call_soon(count)
    await asyncio.sleep(0)
    futures = [turns.take() for _ in range(5)]
    for index, future in enumerate(futures):
        future.add_done_callback(lambda _, index=index: resumed.append((index, iteration)))
    await asyncio.gather(*futures)
    order = [index for index, _ in resumed]
    assert order == [0, 1, 2, 3, 4]
    iterations = [when for _, when in resumed]
    assert iterations[0] == iterations[1] < iterations[2] == iterations[3] < iterations[4]


async def test_the_resume_limit_is_a_setting_and_zero_lifts_it(settings: Any) -> None:
    settings.MOZAIKS_RUN_RESUMES_PER_ITERATION = 3
    turns = _turns()
    assert turns is not None
    assert turns.per_iteration == 3
    settings.MOZAIKS_RUN_RESUMES_PER_ITERATION = 0
    assert _turns() is None


@pytest.mark.django_db(transaction=True)
async def test_a_usage_report_sent_from_a_write_on_the_loop_is_sent_from_a_thread(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mozaiks_core.billing import tasks
    from mozaiks_core.billing.services import report_usage

    settings.MOZAIKS_BILLING_PROVIDER = "stripe"  # with eager Celery the task's HTTP call runs where it is sent
    sent: list[tuple[int, tuple[Any, ...]]] = []
    done = threading.Event()

    def delay(*args: Any) -> None:
        sent.append((threading.get_ident(), args))
        done.set()

    monkeypatch.setattr(tasks.report_usage, "delay", delay)
    call_on_loop(report_usage, 7, "mozaiks_tokens", 100, "llm:chat-1:0")
    assert await asyncio.to_thread(done.wait, 5)
    ((thread, args),) = sent
    assert args == (7, "mozaiks_tokens", 100, "llm:chat-1:0")
    assert thread != threading.get_ident()  # never blocks the loop
    report_usage(7, "mozaiks_tokens", 1, "llm:chat-1:1")  # elsewhere: sent in place
    assert sent[1] == (threading.get_ident(), (7, "mozaiks_tokens", 1, "llm:chat-1:1"))
