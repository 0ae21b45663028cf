"""Run executors: where a claimed chat run executes.

``asyncio`` (the embedded default) runs it as a task on the ASGI server's event loop;
``celery`` (``MOZAIKS_RUN_EXECUTOR=celery``, the default when ``REDIS_URL`` is set) sends its id
to a worker on queue ``mozaiks.runs``. Either way the run is detached from the socket that asked
for it and talks to sockets only through the channel layer.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Protocol

from asgiref.sync import async_to_sync
from celery import current_app
from django.conf import settings
from django.db import transaction

from mozaiks_core.db.async_db import suspended_loop
from mozaiks_core.observability import tracing
from mozaiks_core.runtime.runs.queued import RUN_TASK

logger = logging.getLogger(__name__)

RUNS_QUEUE = "mozaiks.runs"


class RunExecutor(Protocol):
    """Starts the run of a chat that :func:`~mozaiks_core.runtime.services.start_run` claimed."""

    def dispatch(self, chat_id: str, *, user_message: str | None = None, claim: str | None = None) -> None:
        """Start the run once the current transaction commits (never for a rolled-back claim).

        ``claim`` is the chat's ``run_claim`` that :func:`start_run` set: a run that starts after the
        chat was reaped and claimed again finds another claim and does not run."""


class AsyncioExecutor:
    """In-process: the run is an asyncio task of the ASGI server's event loop."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[object]] = {}

    def dispatch(self, chat_id: str, *, user_message: str | None = None, claim: str | None = None) -> None:
        """Schedule :func:`execute_run` on the server's loop after commit (in the caller's trace)."""
        trace = tracing.carrier() or tracing.chat_carrier(chat_id)
        transaction.on_commit(lambda: self._spawn_from_any_thread(chat_id, user_message, claim, trace))

    def _spawn_from_any_thread(self, chat_id: str, user_message: str | None, claim: str | None = None,
                               trace: dict[str, str] | None = None) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop = suspended_loop()
            if loop is not None:  # a write made on the loop's own thread (async_db.call_on_loop)
                loop.call_soon(self._create_task, chat_id, user_message, claim, trace)
                return
            # A sync view or consumer helper: asgiref runs the coroutine on the server's loop.
            async_to_sync(self.spawn)(chat_id, user_message, claim, trace)
        else:
            self._create_task(chat_id, user_message, claim, trace)

    async def spawn(self, chat_id: str, user_message: str | None = None, claim: str | None = None,
                    trace: dict[str, str] | None = None) -> None:
        """Create the run's task on the running loop."""
        self._create_task(chat_id, user_message, claim, trace)

    def _create_task(self, chat_id: str, user_message: str | None, claim: str | None = None,
                     trace: dict[str, str] | None = None) -> None:
        from mozaiks_core.runtime.runs.execution import execute_run

        # A fresh context: the run must not inherit the caller's asgiref thread executor, which
        # ends with the request or consumer call that started it (its trace goes along as ``trace``).
        run = execute_run(chat_id, user_message=user_message, claim=claim, trace=trace)
        task = asyncio.get_running_loop().create_task(run, name=f"mozaiks-run-{chat_id}",
                                                      context=contextvars.Context())
        self.tasks[chat_id] = task
        task.add_done_callback(lambda done: self._finished(chat_id, done))

    def _finished(self, chat_id: str, task: asyncio.Task[object]) -> None:
        if self.tasks.get(chat_id) is task:
            del self.tasks[chat_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("run of chat %s crashed", chat_id, exc_info=task.exception())


class CeleryExecutor:
    """Scale-out: a Celery worker on queue ``mozaiks.runs`` runs it; the task takes only ids."""

    def dispatch(self, chat_id: str, *, user_message: str | None = None, claim: str | None = None) -> None:
        """Send the task after commit, so a worker never sees an uncommitted claim."""
        # By name: the task is the app's (``runtime/tasks.py``), and runs/ never imports the app's face.
        run_chat = current_app.tasks[RUN_TASK]
        kwargs: dict[str, object] = {"user_message": user_message, "claim": claim}
        trace = tracing.carrier() or tracing.chat_carrier(chat_id)
        if trace is not None:
            kwargs["trace"] = trace
        transaction.on_commit(lambda: run_chat.apply_async(args=[chat_id], kwargs=kwargs, queue=RUNS_QUEUE))


_asyncio_executor = AsyncioExecutor()
_celery_executor = CeleryExecutor()


def get_executor() -> RunExecutor:
    """The executor ``MOZAIKS_RUN_EXECUTOR`` selects (read on every call, so tests may switch it)."""
    if getattr(settings, "MOZAIKS_RUN_EXECUTOR", "asyncio") == "celery":
        return _celery_executor
    return _asyncio_executor
