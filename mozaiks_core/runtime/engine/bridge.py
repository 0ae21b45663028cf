"""The bridge between a run's synchronous AG2 code and the asyncio hooks of the run.

AG2's group chat is synchronous: a run executes in a greenlet on the event loop's thread
(:mod:`~mozaiks_core.runtime.engine.on_loop`), and its tools in threads of their own. Every hook
call goes through one ordered queue that a pump task drains on the event loop: events are
delivered in the order AG2 produced them; the pump is woken once per batch (not per call); only
calls that need an answer (``before_llm_call``, input, UI tools) make the run wait — its greenlet
yields to the loop, a tool's thread blocks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.engine.hooks import RunCancelled, RunHooks
from mozaiks_core.runtime.engine.on_loop import on_run_greenlet, wait_for

logger = logging.getLogger("mozaiks_core.runtime.engine")

_Call = Callable[[], Awaitable[Any]]
_STOP = object()

_active: dict[str, HookBridge] = {}
_active_lock = threading.Lock()


def bridge_for_chat(chat_id: str) -> HookBridge | None:
    """The bridge of the run currently executing ``chat_id`` (``use_ui_tool`` finds its hooks here)."""
    return _active.get(chat_id)


class HookBridge:
    """Forwards hook calls from the run (its greenlet or a tool's thread) to ``hooks`` on ``loop``, in order."""

    def __init__(
        self, hooks: RunHooks, loop: asyncio.AbstractEventLoop, chat_id: str, bundle: WorkflowBundle | None = None
    ) -> None:
        self.hooks = hooks
        self.loop = loop
        self.chat_id = chat_id
        self.bundle = bundle  # use_ui_tool resolves a tool's name and display mode from it
        self.history: Callable[[], list[dict[str, Any]]] | None = None  # the run's resumable messages so far
        self.closed = False
        self.failure: BaseException | None = None
        self._items: deque[Any] = deque()  # appended by the run (any thread), drained by the pump
        self._wakeup = asyncio.Event()
        self._wake_scheduled = False
        self._pending: set[concurrent.futures.Future[Any] | asyncio.Future[Any]] = set()
        self._pump: asyncio.Task[None] | None = None
        self._loop_thread = threading.get_ident()  # built on the loop (run_workflow)

    # -- loop side ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the pump and make the run findable by chat id (call on the loop)."""
        self._pump = self.loop.create_task(self._run_pump(), name=f"mozaiks-run-pump-{self.chat_id}")
        with _active_lock:
            _active[self.chat_id] = self

    async def drain(self) -> None:
        """Deliver everything queued so far, then stop the pump (call on the loop)."""
        self._push(_STOP)
        if self._pump is not None:
            await self._pump

    def close(self) -> None:
        """Refuse further calls: waiting and later blocking calls raise :class:`RunCancelled`."""
        self.closed = True
        with _active_lock:
            if _active.get(self.chat_id) is self:
                del _active[self.chat_id]
        for future in list(self._pending):
            if not future.done():
                future.set_exception(RunCancelled("the run was stopped"))
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()

    def stop(self) -> RunCancelled:
        """Close the bridge for a cancelled run; the exception to raise where the run waits.

        Closed first: AG2 reports a tool's exception to the model and carries on, so the run's
        every later call must be refused too.
        """
        self.close()
        return RunCancelled("the run was stopped")

    def _push(self, item: Any) -> None:
        """Queue ``item`` (any thread); wake the pump unless a wake-up is already on its way."""
        self._items.append(item)
        if not self._wake_scheduled:
            self._wake_scheduled = True
            if threading.get_ident() == self._loop_thread:
                self._wakeup.set()  # on the loop's own thread: the pump wakes at the next turn of the loop
            else:
                self.loop.call_soon_threadsafe(self._wakeup.set)

    async def _run_pump(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._wake_scheduled = False  # cleared before draining: a later push schedules a new wake-up
            while self._items:
                item = self._items.popleft()
                if item is _STOP:
                    return
                await self._deliver(*item)

    async def _deliver(self, call: _Call, future: concurrent.futures.Future[Any] | asyncio.Future[Any] | None
                       ) -> None:
        try:
            result = await call()
        except asyncio.CancelledError:
            if future is not None and not future.done():
                future.set_exception(RunCancelled("the run was stopped"))
            raise
        except BaseException as exc:  # delivered to the thread or remembered for the outcome
            if isinstance(exc, RunCancelled):
                self.closed = True  # a cancelled chat refuses every later call as well
            if future is not None:
                if not future.done():
                    future.set_exception(exc)
            elif self.failure is None:
                logger.exception("chat %s: a run hook failed", self.chat_id)
                self.failure = exc
        else:
            if future is not None and not future.done():
                future.set_result(result)

    # -- thread side -------------------------------------------------------------------------

    def notify(self, call: _Call) -> None:
        """Queue a call whose result nobody waits for (events, usage)."""
        if not self.closed:
            self._push((call, None))

    def submit(self, call: _Call) -> concurrent.futures.Future[Any]:
        """Queue a call and return a future for its result (any thread)."""
        return self._queue_call(call, concurrent.futures.Future())

    def _queue_call(self, call: _Call, future: Any) -> Any:
        if self.closed:
            future.set_exception(RunCancelled("the run was stopped"))
            return future
        if self.failure is not None:
            future.set_exception(self.failure)
            return future
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        self._push((call, future))
        return future

    def call(self, call: _Call) -> Any:
        """Queue a call and wait for its result (exceptions re-raised here).

        The run's greenlet yields to the loop meanwhile; any other thread (a tool's) blocks.
        """
        if on_run_greenlet():
            return wait_for(self._queue_call(call, self.loop.create_future()))
        return self.submit(call).result()

    def checkpoint(self) -> None:
        """Before a wait: hand the resumable history to ``hooks.checkpoint(messages=...)`` when the hooks have it.

        A run waiting for the user is where a process restart most likely finds it; with the
        checkpoint stored, the resumed run keeps its tool-written context variables.
        """
        save = getattr(self.hooks, "checkpoint", None)
        if save is not None and self.history is not None:
            messages = self.history()
            self.notify(lambda: save(messages=messages))

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """``hooks.emit`` from the thread."""
        self.notify(lambda: self.hooks.emit(event_type, data))

    def emit_transient(self, event_type: str, data: dict[str, Any]) -> None:
        """``hooks.emit_transient`` from the thread."""
        self.notify(lambda: self.hooks.emit_transient(event_type, data))
