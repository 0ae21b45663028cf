"""Celery tasks of the runtime: workflow runs (queue ``mozaiks.runs``) and the stale-run reaper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.signals import task_prerun, task_received, task_revoked

from mozaiks_core.celery import register_periodic_task
from mozaiks_core.runtime.runs import queued


@shared_task(name=queued.RUN_TASK, ignore_result=True, acks_late=False)
def run_chat(chat_id: str, user_message: str | None = None, claim: str | None = None,
             trace: dict[str, str] | None = None) -> None:
    """Run a claimed chat to its end on this worker (its events reach sockets through the channel layer).

    Not acknowledged late: a run that dies with its worker is marked interrupted by the reaper and
    resumed by the user, never silently replayed from the start. ``trace`` is the dispatching
    request's trace context (W3C headers): the run's span is its child (a sibling of the task's own
    span when Celery is instrumented), so the run stays in the request's trace however it was sent.
    """
    from mozaiks_core.observability import tracing
    from mozaiks_core.runtime.runs.execution import execute_run
    from mozaiks_core.runtime.runs.run_host import run_host

    # On the process's shared run loop (one writer and one set of layer connections for all runs);
    # that loop's thread does not see this thread's span, so it goes along as a carrier.
    parent = trace or tracing.carrier()
    run_host.run(execute_run(chat_id, user_message=user_message, claim=claim, trace=parent))


@shared_task(name="mozaiks_core.runtime.tasks.reap_stale_runs", ignore_result=True)
def reap_stale_runs() -> int:
    """Mark runs without a recent heartbeat as interrupted."""
    from mozaiks_core.runtime import services

    return services.reap_stale_runs()


register_periodic_task("mozaiks-reap-stale-runs", "mozaiks_core.runtime.tasks.reap_stale_runs", 60.0,
                       options={"queue": "mozaiks.default"})


# A run task received by this worker but waiting for a free thread keeps its chat's heartbeat
# (runtime/runs/queued.py) until a thread starts it or it is revoked.
@task_received.connect(dispatch_uid="mozaiks_core.runtime.runs.queued.received")
def _run_received(request: Any = None, **_: Any) -> None:
    _track(queued.hold, getattr(request, "name", None), getattr(request, "args", None),
           getattr(request, "kwargs", None))


@task_prerun.connect(dispatch_uid="mozaiks_core.runtime.runs.queued.started")
def _run_started(sender: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    _track(queued.release, getattr(sender, "name", None), args, kwargs)


@task_revoked.connect(dispatch_uid="mozaiks_core.runtime.runs.queued.revoked")
def _run_revoked(sender: Any = None, request: Any = None, **_: Any) -> None:
    _track(queued.release, getattr(sender, "name", None), getattr(request, "args", None),
           getattr(request, "kwargs", None))


def _track(action: Callable[[str], None], task_name: str | None, args: Any, kwargs: Any) -> None:
    chat_id = queued.chat_of(args, kwargs) if task_name == queued.RUN_TASK else None
    if chat_id is not None:
        action(chat_id)
