"""Runs on the event loop's thread (greenlets), their blocking code in threads of its own."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from typing import Any

import pytest

from mozaiks_core.runtime.engine.on_loop import off_loop, on_run_greenlet, run_on_loop, wait_for
from mozaiks_core.runtime.engine.runner import run_workflow
from tests.runtime.engine.conftest import FIXTURES, load
from tests.support.loop import loop_ticks

MARKER: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


class Stopped(Exception):
    """What the tests' runs get thrown where they wait when cancelled."""


async def test_a_run_waits_for_its_awaitables_and_gets_their_results_and_errors_where_it_waits() -> None:
    async def fails() -> None:
        raise ValueError("awaited call failed")

    def run() -> list[Any]:
        seen: list[Any] = [on_run_greenlet(), wait_for(asyncio.sleep(0.01, result="slept"))]
        try:
            wait_for(fails())
        except ValueError as error:
            seen.append(str(error))
        return seen

    assert await run_on_loop(run, on_cancel=Stopped) == [True, "slept", "awaited call failed"]
    assert not on_run_greenlet()


async def test_runs_interleave_on_the_loop_thread() -> None:
    order: list[str] = []
    loop_thread = threading.get_ident()

    def run(name: str) -> int:
        for step in range(3):
            order.append(f"{name}{step}")
            wait_for(asyncio.sleep(0.001))
        return threading.get_ident()

    threads = await asyncio.gather(run_on_loop(lambda: run("a"), on_cancel=Stopped),
                                   run_on_loop(lambda: run("b"), on_cancel=Stopped))
    assert threads == [loop_thread, loop_thread]
    assert order[:2] == ["a0", "b0"]  # b ran while a waited
    assert sorted(order) == ["a0", "a1", "a2", "b0", "b1", "b2"]


async def test_cancelling_throws_into_the_run_which_may_clean_up_before_the_cancellation_propagates() -> None:
    cleaned: list[str] = []
    waiting = asyncio.Event()

    def run() -> str:
        try:
            waiting.set()
            wait_for(asyncio.Event().wait())  # never set
        except Stopped:
            wait_for(asyncio.sleep(0.01))  # clean-up may wait too
            cleaned.append("stopped")
            return "cancelled"
        return "never"

    task = asyncio.create_task(run_on_loop(run, on_cancel=lambda: Stopped("stop")))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["stopped"]


async def test_wait_for_outside_a_run_is_refused() -> None:
    awaitable = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="only for a run's own code"):
        wait_for(awaitable)
    await awaitable


async def test_blocking_code_runs_in_its_own_thread_with_the_runs_context_while_the_loop_goes_on() -> None:
    def blocking(seconds: float) -> tuple[str, str]:
        time.sleep(seconds)
        return threading.current_thread().name, MARKER.get()

    def run() -> tuple[str, str]:
        MARKER.set("the run's")
        return off_loop(blocking, 0.3)

    async with loop_ticks() as ticks:
        thread_name, marker = await run_on_loop(run, on_cancel=Stopped)
    assert thread_name.startswith("mozaiks-run-call-")
    assert marker == "the run's"
    assert ticks.count >= 10  # the loop ticked every 10 ms while the call slept 300 ms
    assert off_loop(threading.get_ident) == threading.get_ident()  # outside a run: called in place


async def test_an_exception_in_the_thread_is_raised_where_the_run_waits() -> None:
    def broken() -> None:
        raise KeyError("in the thread")

    def run() -> str:
        try:
            off_loop(broken)
        except KeyError as error:
            return str(error)
        return "no error"

    assert await run_on_loop(run, on_cancel=Stopped) == "'in the thread'"


async def test_the_scripted_model_answers_on_the_loop_thread(hooks, context, monkeypatch) -> None:
    from mozaiks_core.runtime.llm.scripted import ScriptedModelClient

    threads: set[int] = set()
    create = ScriptedModelClient.create

    def recorded(self: Any, params: dict[str, Any]) -> Any:
        threads.add(threading.get_ident())
        return create(self, params)

    monkeypatch.setattr(ScriptedModelClient, "create", recorded)
    outcome = await run_workflow(load(FIXTURES / "engine" / "ToolFailure"), context("ToolFailure"), hooks)
    assert outcome.status == "completed"
    assert threads == {threading.get_ident()}


ORM_TOOLS = """tools:
  - {agent: Helper, file: orm.py, function: count_users, description: Count users., tool_type: Agent_Tool}
lifecycle_tools:
  - {trigger: on_start, file: orm.py, function: remember_thread}
"""
ORM_FUNCTIONS = '''
import threading

from django.contrib.auth import get_user_model

THREADS = []


def count_users() -> dict:
    THREADS.append(threading.current_thread().name)
    return {"users": get_user_model().objects.count()}


def remember_thread(context_variables):
    THREADS.append(threading.current_thread().name)
'''


@pytest.mark.django_db(transaction=True)
async def test_tools_run_off_the_loop_so_they_may_use_the_orm_synchronously(hooks, context, bundle_copy) -> None:
    bundle = bundle_copy(FIXTURES / "engine" / "ToolFailure", {
        "tools.yaml": ORM_TOOLS, "tools/orm.py": ORM_FUNCTIONS,
        "scripted_model.yaml": "turns:\n- tool_call: {name: count_users, arguments: {}}\n- say: Counted.\n",
    })
    outcome = await run_workflow(bundle, context("ToolFailure"), hooks)
    assert outcome.status == "completed", outcome
    (response,) = hooks.events("chat.tool_response")
    assert response["success"] is True, response  # on the loop the ORM raises SynchronousOnlyOperation
    assert '"users": 0' in response["content"]
    threads = bundle.tools[0].function.__globals__["THREADS"]
    assert len(threads) == 2
    assert all(name.startswith("mozaiks-run-call-") for name in threads)


async def test_cancelling_a_run_waiting_in_a_tool_stops_it_as_cancelled_and_refuses_later_calls(
    hooks, context, bundle_copy
) -> None:
    started = threading.Event()
    release = threading.Event()
    bundle = bundle_copy(FIXTURES / "engine" / "ToolFailure", {
        "tools.yaml": "tools:\n  - {agent: Helper, file: slow.py, function: slow, tool_type: Agent_Tool}\n",
        "tools/slow.py": "def slow() -> str:\n    HOOK()\n    return 'done'\n",
        "scripted_model.yaml": "turns:\n- tool_call: {name: slow, arguments: {}}\n- say: After the tool.\n",
    })

    def hold() -> None:
        started.set()
        release.wait(5)

    bundle.tools[0].function.__globals__["HOOK"] = hold
    task = asyncio.create_task(run_workflow(bundle, context("ToolFailure"), hooks))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await asyncio.sleep(0.1)
    assert "After the tool." not in [event.get("content") for event in hooks.events("chat.text")]
    assert hooks.llm_calls == 1  # nothing after the cancellation: the run was stopped where it waited
