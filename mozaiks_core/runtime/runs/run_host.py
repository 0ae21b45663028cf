"""One event loop per worker process for every run a Celery worker executes.

A Celery task used to start its own event loop (``asyncio.run``) per run. Each loop had its own
event writer, so a worker holding a hundred chats committed a hundred small transactions where
one would do, kept a hundred sets of channel-layer connections, and every loop's database calls
queued on the process's one database thread anyway. The run host keeps a single loop in a
daemon thread: all runs of the process share its writer (one commit per batch for every chat),
its channel-layer connections and its database thread. The Celery task still blocks until its
run ends, so worker concurrency, warm shutdown and the reaper behave as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class RunHost:
    """A lazily started event loop in a daemon thread that runs coroutines for any thread."""

    def __init__(self, name: str = "mozaiks-run-host") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        """The host's loop, started on first use (and again if its thread died)."""
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                # A fresh context: the host must not inherit the starting task's context variables.
                thread = threading.Thread(target=contextvars.Context().run, args=(serve,), name=self.name,
                                          daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the host's loop and block the calling thread until it returns."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("RunHost.run() was called from the host's own loop; await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop()).result()


run_host = RunHost()
