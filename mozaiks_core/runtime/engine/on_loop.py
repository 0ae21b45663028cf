"""Runs execute AG2 on the event loop's thread, in a greenlet; code that may block runs in threads.

AG2's group chat is synchronous. Given a thread each, every run competed with the event loop for
the GIL: under load the loop, the event writer and fifty run threads took turns in 5 ms slices,
and an event waited for several of them between its emit and its socket. Here a run is a greenlet
that the loop switches into. AG2's own work (speaker selection, handoffs, message bookkeeping:
CPU only, a fraction of a millisecond per turn) runs between the loop's other callbacks, and where
the run waits (the user's answer, a hook's result) its greenlet hands control back to the loop
until the awaited future is done. Code that may block — bundle tools, lifecycle tools, hook
functions, calls to a model server — goes to a thread of its own through :func:`off_loop` while
the greenlet waits, so the loop never blocks on it and such code may keep using the ORM.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _RunGreenlet(greenlet):  # type: ignore[misc]
    """The greenlet of one run (what :func:`on_run_greenlet` looks for)."""


def on_run_greenlet() -> bool:
    """True in a run's own code on the event loop's thread (False in threads and plain coroutines)."""
    return isinstance(getcurrent(), _RunGreenlet)


async def run_on_loop(function: Callable[[], T], *, on_cancel: Callable[[], BaseException]) -> T:
    """``function()`` in a greenlet on this thread; every :func:`wait_for` in it is an ``await`` here.

    Cancelling the awaiting task throws ``on_cancel()`` into the greenlet where it waits and lets
    the run finish (its clean-up may wait too); the cancellation is re-raised after.
    """
    run = _RunGreenlet(function, getcurrent())
    # A greenlet starts in an empty context: the run's own (its log fields, its trace span) goes along.
    run.gr_context = contextvars.copy_context()
    awaited = run.switch()
    cancelled: asyncio.CancelledError | None = None
    turns = _turns()
    while not run.dead:
        try:
            value = await awaited
            if turns is not None:
                await turns.take()
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
            awaited = run.throw(on_cancel())
        except BaseException as exc:  # the awaited call failed: raised where the run waits
            awaited = run.throw(exc)
        else:
            awaited = run.switch(value)
    if cancelled is not None:
        raise cancelled
    return awaited  # type: ignore[return-value]


class ResumeTurns:
    """At most ``per_iteration`` runs resume per iteration of the event loop; the others wait their turn.

    Delivery before new work: an iteration runs every callback that was ready when it began, so
    fifty runs whose answers arrived together computed their turns back to back before the event
    writer and the sockets had their next go, and an event emitted early in such a burst waited for
    all of it (the runs then stayed in lockstep). Runs wait in order of arrival; every other
    callback of the loop runs between two groups of turns.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, per_iteration: int) -> None:
        self.loop = loop
        self.per_iteration = per_iteration
        self.taken = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.reset_scheduled = False

    def take(self) -> asyncio.Future[None]:
        """A future done when this run may go on (already done when a turn of this iteration is free)."""
        future: asyncio.Future[None] = self.loop.create_future()
        if not self.reset_scheduled:
            self.loop.call_soon(self._next_iteration)
            self.reset_scheduled = True
        if self.taken < self.per_iteration and not self.waiting:
            self.taken += 1
            future.set_result(None)
        else:
            self.waiting.append(future)
        return future

    def _next_iteration(self) -> None:
        self.taken = 0
        self.reset_scheduled = False
        while self.waiting and self.taken < self.per_iteration:
            future = self.waiting.popleft()
            if not future.done():  # a cancelled run gave its turn up
                self.taken += 1
                future.set_result(None)
        if self.waiting or self.taken:
            self.loop.call_soon(self._next_iteration)
            self.reset_scheduled = True


_turns_of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ResumeTurns] = weakref.WeakKeyDictionary()


def _turns() -> ResumeTurns | None:
    """This loop's :class:`ResumeTurns` (None when ``MOZAIKS_RUN_RESUMES_PER_ITERATION`` is 0: no limit)."""
    per_iteration = int(getattr(settings, "MOZAIKS_RUN_RESUMES_PER_ITERATION", 1))
    if per_iteration <= 0:
        return None
    loop = asyncio.get_running_loop()
    turns = _turns_of_loop.get(loop)
    if turns is None or turns.per_iteration != per_iteration:
        turns = _turns_of_loop[loop] = ResumeTurns(loop, per_iteration)
    return turns


def wait_for(awaitable: Awaitable[T]) -> T:
    """From a run's greenlet: let the loop run until ``awaitable`` is done; its result (or exception)."""
    current = getcurrent()
    if not isinstance(current, _RunGreenlet):
        raise RuntimeError("wait_for() is only for a run's own code on the event loop (see run_on_loop)")
    return current.parent.switch(awaitable)  # type: ignore[no-any-return]


def off_loop(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``; from a run's greenlet, in a thread of its own while the run waits.

    The thread has the run's context variables (AG2's console stream among them) and closes the
    database connections it opened. A new thread per call, not a pool: a tool may wait hours for
    the user (``use_ui_tool``), and a bounded pool would make every other run wait behind it.
    """
    if not on_run_greenlet():
        return function(*args, **kwargs)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result = context.run(function, *args, **kwargs)
        except BaseException as exc:  # handed to the run, raised where it waits
            _settle_from_thread(loop, future, None, exc)
        else:
            _settle_from_thread(loop, future, result, None)
        finally:
            context.run(connections.close_all)

    threading.Thread(target=work, name=f"mozaiks-run-call-{getattr(function, '__name__', 'call')}",
                     daemon=True).start()
    return wait_for(future)


def runs_off_loop(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` calling itself through :func:`off_loop` (for code AG2 calls directly, e.g. hooks)."""

    @functools.wraps(function)
    def off_the_loop(*args: Any, **kwargs: Any) -> T:
        return off_loop(function, *args, **kwargs)

    return off_the_loop


def _settle_from_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any,
                        error: BaseException | None) -> None:
    def settle() -> None:
        if future.done():  # the run was stopped while the call ran
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    with contextlib.suppress(RuntimeError):  # the loop closed while the call ran (shutdown): nobody waits
        loop.call_soon_threadsafe(settle)
