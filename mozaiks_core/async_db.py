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

import functools
import threading
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

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
