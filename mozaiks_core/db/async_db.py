"""Database calls from async code (consumers, runs) without a health-check query per call.

Channels' ``database_sync_to_async`` wraps every call in ``close_old_connections()``, which marks
the connection for a health check: with ``CONN_HEALTH_CHECKS`` each call then pays a
``SELECT 1`` round trip before its own query, and with ``CONN_MAX_AGE=0`` a reconnect. On the
chat hot path (every user answer, every budget check) that doubled the database time of the
process's single database thread.

:func:`db_call` runs ``func`` on the same thread-sensitive database thread, but does the
connection upkeep (obsolete or broken connections closed, the health check armed) at most once
per :data:`UPKEEP_SECONDS` and after any error, which is what a request boundary gives a
synchronous view.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, close_old_connections, connections

from mozaiks_core.db.sqlite_checkpoints import checkpointer, prepare_loop_connection

P = ParamSpec("P")
R = TypeVar("R")

UPKEEP_SECONDS = 1.0

_upkeep = threading.local()


def _upkeep_due() -> bool:
    now = time.monotonic()
    if now - getattr(_upkeep, "at", float("-inf")) < UPKEEP_SECONDS:
        return False
    _upkeep.at = now
    return True


def _close_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()


def _guarded(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    if _upkeep_due():
        close_old_connections()
    try:
        return func(*args, **kwargs)
    except Exception:
        _close_broken_connections()
        _upkeep.at = float("-inf")  # the next call checks the connection again
        raise


def db_call(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``func`` as a coroutine function running on the database thread (see the module docstring)."""
    return sync_to_async(functools.partial(_guarded, func), thread_sensitive=True)  # type: ignore[arg-type]


# --- SQLite writes on the event loop's thread --------------------------------------------------


class LockBusy(Exception):
    """Another connection holds SQLite's write lock: the call was not made (retry it on a thread)."""


_inline = threading.local()


def writes_on_loop() -> bool:
    """Whether hot writes run on the event loop's thread (SQLite and ``MOZAIKS_SQLITE_WRITES_ON_LOOP``).

    SQLite is a library, not a server: a chat's write is a few function calls of CPU. On a thread
    each of them gives up the GIL and then waits for the busy loop to hand it back (a 16-event
    commit: 1.2 ms of CPU took 3.6 ms), and the loop waits for the thread's answer in turn.
    """
    return connections[DEFAULT_DB_ALIAS].vendor == "sqlite" and bool(
        getattr(settings, "MOZAIKS_SQLITE_WRITES_ON_LOOP", True))


def suspended_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of this thread while :func:`call_on_loop` runs a call (None otherwise).

    Code reached from such a call that must schedule work on the loop (a run started by the
    answer) uses it: ``asyncio.get_running_loop()`` raises there.
    """
    return getattr(_inline, "loop", None)


def call_on_loop(func: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """``func(*args, **kwargs)`` with the ORM on the event loop's thread, never waiting for SQLite's lock.

    Django refuses synchronous database calls where an event loop runs (they would block it); a
    SQLite call blocks for microseconds unless it waits for the write lock, so the loop's own
    connection waits for nothing during the call (``busy_timeout`` 0, given back after it):
    :class:`LockBusy` when another connection writes, and the caller makes the call on a thread
    instead. A thread copies the WAL back into the database after it
    (:mod:`mozaiks_core.db.sqlite_checkpoints`), not the loop's commits. The call must be short and
    must not await: nothing else runs on the loop meanwhile.
    """
    loop = asyncio.get_running_loop()
    asyncio.events._set_running_loop(None)  # Django's guard looks for a running loop in this thread
    _inline.loop = loop
    raw, waits_ms = None, 0
    try:
        raw, waits_ms = _never_wait_for_the_lock()
        checkpointer.start_log_over(raw)
        result = func(*args, **kwargs)
        checkpointer.request()
        return result
    except OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise LockBusy(str(error)) from error
        _close_broken_connections()
        raise
    finally:
        _inline.loop = None
        asyncio.events._set_running_loop(loop)
        if raw is not None:
            _wait_for_the_lock_again(raw, waits_ms)


def _never_wait_for_the_lock() -> tuple[Any, int]:
    """Set the thread's connection to wait for no lock: (its raw connection, the milliseconds it waited).

    The connection's own ``busy_timeout`` (``OPTIONS["timeout"]``) is read once per connection, when
    it also gets the loop's automatic-checkpoint threshold (:func:`prepare_loop_connection`).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(_inline, "timeout_of", None)
    if known is None or known[0] is not raw:
        known = _inline.timeout_of = (raw, int(raw.execute("PRAGMA busy_timeout").fetchone()[0]))
        prepare_loop_connection(raw)
    raw.execute("PRAGMA busy_timeout = 0")
    return raw, known[1]


def _wait_for_the_lock_again(raw: Any, waits_ms: int) -> None:
    """Give the connection its ``busy_timeout`` back: the thread's synchronous ORM calls outside
    :func:`call_on_loop` (a management command or an eager Celery task that ran a loop, a test)
    share it, and with no timeout failed at once ("database is locked") whenever another
    process was committing."""
    with contextlib.suppress(sqlite3.Error):  # a broken connection was closed: the next one starts afresh
        raw.execute(f"PRAGMA busy_timeout = {waits_ms:d}")


def db_write(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``func`` (a short write) as a coroutine function: on the loop's thread when :func:`writes_on_loop`,
    on the database thread when that finds SQLite's lock taken or elsewhere (:func:`db_call`)."""
    on_thread = db_call(func)

    async def write(*args: P.args, **kwargs: P.kwargs) -> R:
        if writes_on_loop():
            try:
                return call_on_loop(func, *args, **kwargs)
            except LockBusy:
                pass
        return await on_thread(*args, **kwargs)

    return write
