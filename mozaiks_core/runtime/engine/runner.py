"""``run_workflow``: execute one workflow run on AG2 without blocking the event loop.

The AG2 group chat runs in a greenlet on the event loop's thread and yields to the loop wherever
it waits (:mod:`~mozaiks_core.runtime.engine.on_loop`); tools and model-server calls run in
threads of their own. Every hook call goes to the hooks through the :class:`HookBridge`. The run
ends with a :class:`RunOutcome` carrying the AG2 message history, which ``resume_messages``
accepts to continue the chat later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import openai
from autogen.io.base import IOStream

from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.engine.agents import build_pattern, new_run_state, prepare_speaker_selection
from mozaiks_core.runtime.engine.bridge import HookBridge
from mozaiks_core.runtime.engine.events import USER_AGENT_NAME, RunEventStream
from mozaiks_core.runtime.engine.fast_paths import speed_up
from mozaiks_core.runtime.engine.hooks import BudgetExceeded, RunCancelled, RunContext, RunHooks, RunOutcome
from mozaiks_core.runtime.engine.lifecycle import run_lifecycle
from mozaiks_core.runtime.engine.on_loop import run_on_loop
from mozaiks_core.runtime.engine.telemetry import instrument_run
from mozaiks_core.runtime.llm.scripted import ScriptExhausted, ScriptInvalid

logger = logging.getLogger("mozaiks_core.runtime.engine")

DEFAULT_SEED = "Begin."
TEMP_USER_NAME = "_User"  # AG2's stand-in sender of a first message when a workflow has no user agent
CONTEXT_KEY = "mozaiks_context"  # on the last message of RunOutcome.messages: the context variables at the end


class _SilentStream:
    """Console stream for AG2 code outside a run's own stream."""

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        """Dropped: AG2's console output is not part of any chat."""

    def send(self, message: Any) -> None:
        """Dropped."""

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        """A server has no console to read from."""
        raise RuntimeError("console input is not available in a MozaiksCore run")


IOStream.set_global_default(_SilentStream())  # type: ignore[arg-type]


async def run_workflow(
    bundle: WorkflowBundle,
    ctx: RunContext,
    hooks: RunHooks,
    *,
    resume_messages: list[dict[str, Any]] | None = None,
    user_message: str | None = None,
) -> RunOutcome:
    """Run ``bundle`` for the chat of ``ctx``, talking to the world only through ``hooks``.

    A fresh run starts with the bundle's ``initial_message`` as a hidden seed (never shown as a
    user ``chat.text``); with ``user_message`` (a ``UserDriven`` start) the user's message starts
    the chat and ``initial_message`` is added to the entry agent's instructions instead. With
    ``resume_messages`` (a previous :attr:`RunOutcome.messages`, stored as is) the chat continues
    where it stopped, ``user_message`` being the user's next reply; the last stored message
    carries the context variables under ``mozaiks_context``, so tool writes survive the resume
    (a history rebuilt from ``chat.text`` events starts from the declared defaults). The engine
    emits ``chat.text`` for every message, the user's included (``role: "user"``), so the run
    service must not echo them.

    Outcome: ``completed``; ``failed`` with ``error_code`` (``TOKEN_BUDGET_EXCEEDED``,
    ``SCRIPT_EXHAUSTED``, ``SCRIPT_INVALID``, ``MODEL_ERROR``, ``HOOK_FAILED``, ``ENGINE_ERROR``) and the error
    message in ``summary``; or ``cancelled`` when a hook raised :class:`RunCancelled`. Cancelling
    the task calling this coroutine stops the run where it waits (it ends as ``cancelled``, then
    the cancellation propagates). Never raises for workflow errors.

    Optional hook: when ``hooks`` has ``async checkpoint(*, messages)``, it receives the resumable
    history (same form as :attr:`RunOutcome.messages`) each time the run is about to wait for
    input or a UI tool, so a run interrupted by a restart can resume with its context.
    """
    bridge = HookBridge(hooks, asyncio.get_running_loop(), ctx.chat_id, bundle)
    bridge.start()
    try:
        outcome = await run_on_loop(lambda: _execute(bundle, ctx, bridge, resume_messages, user_message),
                                    on_cancel=bridge.stop)
        await bridge.drain()
    finally:
        bridge.close()
    if bridge.failure is not None and outcome.status == "completed":
        outcome = RunOutcome("failed", f"A run hook failed: {bridge.failure}", "HOOK_FAILED", outcome.messages)
    return outcome


def _initial_messages(
    bundle: WorkflowBundle, resume_messages: list[dict[str, Any]] | None, user_message: str | None
) -> tuple[list[dict[str, Any]] | str, str | None]:
    """The messages AG2 starts from and the text to hide from the chat (seed or re-sent last message)."""
    if resume_messages:
        messages = [_stored_message(message) for message in resume_messages]
        if user_message is not None:
            return [*messages, {"role": "user", "name": USER_AGENT_NAME, "content": user_message}], None
        return messages, str(messages[-1].get("content") or "")  # AG2 re-sends the last message
    if user_message is not None:  # a UserDriven start: the initial_message went into the entry agent's prompt
        return user_message, None
    seed = bundle.orchestrator.initial_message or DEFAULT_SEED
    return seed, seed


def _stored_message(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as AG2 accepts it back: no snapshot key, AG2's stand-in user named ``user``."""
    message = {key: value for key, value in message.items() if key != CONTEXT_KEY}
    if message.get("name") == TEMP_USER_NAME:
        message["name"] = USER_AGENT_NAME
    return message


def _context(bundle: WorkflowBundle, ctx: RunContext, resume_messages: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Declared defaults, then the snapshot of a resumed run, then the run identity (always wins)."""
    data = {spec.name: spec.default for spec in bundle.context_variables}
    snapshot = next((m[CONTEXT_KEY] for m in reversed(resume_messages or []) if CONTEXT_KEY in m), None)
    if isinstance(snapshot, dict):
        data.update(snapshot)
    data.update(ctx.context_variables())
    return data


def _continue_from_history(groupchat: Any) -> None:
    """On resume, select the next speaker from the history's handoffs, not the pattern's initial agent.

    AG2 0.14's group transition always picks ``initial_agent`` first (a flag in its closure), which
    would restart a resumed chat at the entry agent. The flag is cleared here.
    """
    transition = groupchat.speaker_selection_method
    for cell in getattr(transition, "__closure__", None) or ():
        contents = cell.cell_contents
        if isinstance(contents, dict) and "use_initial_agent" in contents:
            contents["use_initial_agent"] = False
            return
    logger.warning("AG2 group transition without use_initial_agent: a resumed chat restarts at its initial agent")


def _history(manager: Any, pattern: Any) -> list[dict[str, Any]]:
    """The AG2 messages (JSON-safe), the last one carrying the context variables for a resume."""
    if manager is None:
        return []
    messages = json.loads(json.dumps(manager.groupchat.messages, default=str))
    if messages and pattern is not None:
        messages[-1][CONTEXT_KEY] = json.loads(json.dumps(pattern.context_variables.to_dict(), default=str))
    return messages


def _execute(
    bundle: WorkflowBundle,
    ctx: RunContext,
    bridge: HookBridge,
    resume_messages: list[dict[str, Any]] | None,
    user_message: str | None,
) -> RunOutcome:
    """Run the chat, then the ``on_complete`` or ``on_fail`` lifecycle tools (a cancelled run gets neither)."""
    holder: dict[str, Any] = {}
    outcome = _run_chat(bundle, ctx, bridge, resume_messages, user_message, holder)
    context_variables = holder.get("context_variables")
    if outcome.status == "completed":
        run_lifecycle(bundle, "on_complete", context_variables, summary=outcome.summary)
    elif outcome.status == "failed":
        run_lifecycle(bundle, "on_fail", context_variables, error=outcome.summary, error_code=outcome.error_code)
    return outcome


def _run_chat(
    bundle: WorkflowBundle,
    ctx: RunContext,
    bridge: HookBridge,
    resume_messages: list[dict[str, Any]] | None,
    user_message: str | None,
    holder: dict[str, Any],
) -> RunOutcome:
    messages, hidden = _initial_messages(bundle, resume_messages, user_message)
    events = RunEventStream(bridge, bundle, hidden_seed=hidden)
    manager = pattern = None
    try:
        with IOStream.set_default(events):
            state = new_run_state(bundle, bridge, events, resume_messages)
            start_note = bundle.orchestrator.initial_message if user_message and not resume_messages else None
            with_user = bool(resume_messages) and (user_message is not None or any(
                message.get("name") in (USER_AGENT_NAME, TEMP_USER_NAME) for message in resume_messages or ()
            ))
            pattern = build_pattern(bundle, state, _context(bundle, ctx, resume_messages), start_note=start_note,
                                    with_user=with_user)
            instrument_run(pattern)
            holder["context_variables"] = pattern.context_variables
            prepared = pattern.prepare_group_chat(max_rounds=bundle.orchestrator.max_turns, messages=messages)
            manager, processed, first_agent = prepared[8], prepared[9], prepared[10]
            speed_up([manager, *manager.groupchat.agents])
            bridge.history = lambda: _history(manager, pattern)
            if bundle.orchestrator.orchestration_pattern == "AutoPattern":
                prepare_speaker_selection(manager, bundle, state)
            if not resume_messages and bundle.orchestrator.initial_message_to_user:
                events.text(bundle.entry_agent, bundle.orchestrator.initial_message_to_user, "assistant")
            if len(processed) > 1:
                if resume_messages:
                    _continue_from_history(manager.groupchat)
                first_agent, last_message = manager.resume(messages=processed)
                clear_history = False
            else:
                last_message, clear_history = processed[0], True
            run_lifecycle(bundle, "on_start", pattern.context_variables)
            run_lifecycle(bundle, "before_chat", pattern.context_variables)
            try:
                result = first_agent.initiate_chat(
                    manager, message=last_message, clear_history=clear_history, summary_method=pattern.summary_method
                )
            finally:
                run_lifecycle(bundle, "after_chat", pattern.context_variables)
        return RunOutcome("completed", str(result.summary or ""), "", _history(manager, pattern))
    except BudgetExceeded as exc:
        message = str(exc) or "The organization's token budget is exhausted."
        return RunOutcome("failed", message, BudgetExceeded.error_code, _history(manager, pattern))
    except ScriptExhausted as exc:
        return RunOutcome("failed", str(exc), ScriptExhausted.error_code, _history(manager, pattern))
    except ScriptInvalid as exc:
        return RunOutcome("failed", f"The model script is invalid: {exc}", "SCRIPT_INVALID", _history(manager, pattern))
    except RunCancelled as exc:
        return RunOutcome("cancelled", str(exc) or "The run was cancelled.", "", _history(manager, pattern))
    except openai.OpenAIError as exc:  # the model server refused or failed: say which, keep the history
        logger.warning("chat %s: model call failed: %s", ctx.chat_id, exc)
        return RunOutcome("failed", f"The model call failed: {type(exc).__name__}: {exc}", "MODEL_ERROR",
                          _history(manager, pattern))
    except Exception as exc:  # any AG2 or model failure ends this run cleanly, never the process
        logger.exception("chat %s: workflow %s failed", ctx.chat_id, bundle.name)
        history = _history(manager, pattern)
        if bridge.failure is not None:
            return RunOutcome("failed", f"A run hook failed: {bridge.failure}", "HOOK_FAILED", history)
        return RunOutcome("failed", f"The workflow failed: {type(exc).__name__}: {exc}", "ENGINE_ERROR", history)
