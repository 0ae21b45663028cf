"""The database fallback for answers, one poll per event loop instead of one per waiting run.

Answers and cancellations reach a waiting run through the channel layer; a message that layer
loses (Redis restarting, a pub/sub hiccup) must only delay the answer. Each waiting run used to
poll the database for its own request every couple of seconds: with a hundred chats waiting for
their users, that was fifty queries a second queued on the process's one database thread, in
front of the event writer's commits. The :class:`AnswerPoller` of a loop asks once per interval
for every request its runs wait on (two queries, whatever the number of runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mozaiks_core.db.async_db import db_call
from mozaiks_core.runtime.models import ChatSession, PendingRequest

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per query (well under every database's parameter limit)


@dataclass(slots=True)
class _Waiter:
    chat_pk: int
    future: asyncio.Future[Any]
    on_cancelled: Callable[[], None]


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]


def _answers_and_cancellations(request_ids: list[str], chat_pks: list[int]) -> tuple[dict[str, Any], set[int]]:
    answers: dict[str, Any] = {}
    for chunk in _chunks(request_ids):
        answers.update(PendingRequest.objects.filter(request_id__in=chunk, answered_at__isnull=False)
                       .values_list("request_id", "response"))
    cancelled: set[int] = set()
    for chunk in _chunks(chat_pks):
        cancelled.update(ChatSession.objects.filter(pk__in=chunk, status=ChatSession.Status.CANCELLED)
                         .values_list("pk", flat=True))
    return answers, cancelled


_poll = db_call(_answers_and_cancellations)


class AnswerPoller:
    """Resolves waiting runs' futures from the database every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._waiting: dict[str, _Waiter] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, request_id: str, chat_pk: int, future: asyncio.Future[Any],
              on_cancelled: Callable[[], None]) -> None:
        """Poll for ``request_id`` until :meth:`forget`; ``on_cancelled`` runs if its chat is cancelled."""
        self._waiting[request_id] = _Waiter(chat_pk, future, on_cancelled)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mozaiks-answer-poller")

    def forget(self, request_id: str) -> None:
        """Stop polling for ``request_id``."""
        self._waiting.pop(request_id, None)

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.interval)
            waiting = {request_id: waiter for request_id, waiter in self._waiting.items() if not waiter.future.done()}
            if not waiting:
                continue
            try:
                answers, cancelled = await _poll(list(waiting), sorted({w.chat_pk for w in waiting.values()}))
            except Exception:  # the database is down: try again next interval
                logger.exception("polling %d pending answers failed", len(waiting))
                continue
            for request_id, waiter in waiting.items():
                if waiter.chat_pk in cancelled:
                    waiter.on_cancelled()
                elif request_id in answers and not waiter.future.done():
                    waiter.future.set_result(answers[request_id])

    async def stop(self) -> None:
        """Cancel the polling task (tests and shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AnswerPoller] = weakref.WeakKeyDictionary()


def answer_poller(interval: float) -> AnswerPoller:
    """The poller of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    poller = _pollers.get(loop)
    if poller is None:
        poller = AnswerPoller(interval)
        _pollers[loop] = poller
    return poller
