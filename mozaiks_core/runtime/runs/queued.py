"""Heartbeats for the runs a Celery worker holds but has not started yet.

A run's task keeps its worker thread until the run ends, and a run waits for its user in the
middle, so a task handed to a worker whose threads are all busy waits inside that worker. Its
chat was claimed with a heartbeat, and nothing else proved it alive until a thread started it:
the reaper marked it ``interrupted`` after three heartbeats although it was only waiting its
turn. The worker now beats for the chats of the run tasks it has received and not started
(Celery's ``task_received`` to ``task_prerun``). A worker that dies stops beating and its chats
are reaped as before; a task no worker has taken (every worker full) is reaped too: capacity is
exhausted, and the user is told.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

RUN_TASK = "mozaiks_core.runtime.tasks.run_chat"

_held: set[str] = set()
_lock = threading.Lock()
_beater: threading.Thread | None = None


def chat_of(args: Sequence[Any] | None, kwargs: dict[str, Any] | None) -> str | None:
    """The chat id of a ``run_chat`` call."""
    if args:
        return str(args[0])
    chat_id = (kwargs or {}).get("chat_id")
    return None if chat_id is None else str(chat_id)


def hold(chat_id: str) -> None:
    """This worker holds the run of ``chat_id`` (received, waiting for a thread): beat for it."""
    global _beater
    with _lock:
        _held.add(chat_id)
        if _beater is None or not _beater.is_alive():
            _beater = threading.Thread(target=_beat_forever, name="mozaiks-queued-runs", daemon=True)
            _beater.start()


def release(chat_id: str) -> None:
    """The run of ``chat_id`` started (its own heartbeat takes over) or left this worker."""
    with _lock:
        _held.discard(chat_id)


def held() -> list[str]:
    """The chats whose runs this worker holds without having started them."""
    with _lock:
        return sorted(_held)


def beat() -> int:
    """Move the heartbeat of every held chat that is still claimed (``running``); rows changed."""
    from mozaiks_core.runtime.models import ChatSession

    chats = held()
    if not chats:
        return 0
    close_old_connections()
    return ChatSession.objects.filter(chat_id__in=chats, status=ChatSession.Status.RUNNING).update(
        heartbeat_at=timezone.now())


def _beat_forever() -> None:
    from mozaiks_core.runtime.runs.config import heartbeat_seconds

    while True:
        time.sleep(heartbeat_seconds())
        try:
            beat()
        except Exception:  # the next beat tries again; a missed one only risks the reaper's notice
            logger.exception("could not write the heartbeats of queued runs")
