"""Interpreter settings for the long-lived processes that serve chats and execute runs.

Two measured problems, one module:

- **GIL hand-offs.** The event writer's thread (and a tool's) gives up the GIL in every C call
  (a SQLite step, a socket read) and then waits to get it back from the busy event loop: with
  Python's default 5 ms switch interval up to 5 ms per call. ``MOZAIKS_THREAD_SWITCH_INTERVAL``
  (default 0.5 ms) shortens it.
- **Full garbage collections.** A worker holding a hundred runs, or a server holding a thousand
  sockets, has a heap of millions of objects, nearly all of them modules, classes and settings
  loaded at start-up. Every full (generation 2) collection walked all of them: 100-500 ms
  pauses of every thread of the process, which were the whole tail of the delivery latency
  under load. :func:`freeze_startup_heap` imports the runtime's heavy modules (AG2, the engine),
  collects once and moves everything alive into the permanent generation (``gc.freeze()``);
  later collections only walk what runs and sockets create. ``MOZAIKS_GC_FREEZE=false`` turns
  it off.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys

from django.conf import settings

logger = logging.getLogger(__name__)

# Imported before freezing: the engine pulls in AG2 (autogen), OpenAI and pydantic models.
WARM_IMPORTS = (
    "mozaiks_core.runtime.engine", "mozaiks_core.runtime.runs.execution", "mozaiks_core.runtime.transport.consumers",
)

# Collect the youngest generation every 10,000 allocations instead of 700: a turn's short-lived
# objects die before a collection sees them, so fewer are promoted and full collections are rarer.
YOUNG_THRESHOLD = 10_000

_frozen_in_pid: int | None = None


def tune_thread_switching() -> None:
    """Set ``MOZAIKS_THREAD_SWITCH_INTERVAL`` (seconds; 0 keeps the interpreter's value) for the process."""
    interval = float(getattr(settings, "MOZAIKS_THREAD_SWITCH_INTERVAL", 0.0005))
    if interval > 0 and sys.getswitchinterval() != interval:
        sys.setswitchinterval(interval)


def freeze_startup_heap() -> bool:
    """Once per process: import the heavy modules, collect, ``gc.freeze()``. True if it froze now."""
    global _frozen_in_pid
    if not getattr(settings, "MOZAIKS_GC_FREEZE", True) or _frozen_in_pid == os.getpid():
        return False
    for module in WARM_IMPORTS:
        try:
            importlib.import_module(module)
        except Exception:  # a broken optional import must not stop the server; the run reports it
            logger.exception("could not import %s before freezing the start-up heap", module)
    try:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - the URLconf (ninja schemas, admin) loads lazily
    except Exception:
        logger.exception("could not load the URLconf before freezing the start-up heap")
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
    _frozen_in_pid = os.getpid()
    logger.info("froze %d start-up objects out of garbage collection", gc.get_freeze_count())
    return True


def tune_process() -> None:
    """Both settings: call where a server or worker process has finished starting."""
    tune_thread_switching()
    freeze_startup_heap()
