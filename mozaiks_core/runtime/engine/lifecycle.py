"""``lifecycle_tools`` of a bundle: functions run at fixed points of a run (MozaiksAI format).

Triggers, in the order a run meets them: ``on_start`` and ``before_chat`` before the group chat
starts; ``before_agent`` and ``after_agent`` around every turn of an agent (of the named agent
only, when ``agent`` is set); ``after_chat`` when the chat stops, whatever the outcome; then
``on_complete`` or ``on_fail``. Entries of one trigger run in declaration order, in the run's
thread. A function receives ``context_variables`` (the run's live AG2 ``ContextVariables``: its
writes reach later handoff conditions) when it has that parameter, and ``on_complete`` /
``on_fail`` functions also get ``summary`` / ``error`` and ``error_code`` when they ask for them.
``async def`` functions are awaited. A lifecycle function that raises is logged and the run goes
on: these are observers and set-up steps, never a way to stop a chat.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from mozaiks_core.runtime.bundles.models import LifecycleToolSpec, WorkflowBundle
from mozaiks_core.runtime.engine.tools import call_to_completion

logger = logging.getLogger("mozaiks_core.runtime.engine")


def run_lifecycle(bundle: WorkflowBundle, trigger: str, context_variables: Any, *, agent: str | None = None,
                  **details: Any) -> None:
    """Run every lifecycle tool of ``trigger`` (for ``agent``, at agent-level triggers)."""
    for spec in bundle.lifecycle_tools:
        if spec.trigger != trigger or (agent is not None and spec.agent not in (None, agent)):
            continue
        _call(bundle, spec, context_variables, details)


def _call(bundle: WorkflowBundle, spec: LifecycleToolSpec, context_variables: Any, details: dict[str, Any]) -> None:
    try:
        parameters = inspect.signature(spec.function).parameters
        takes_any = any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values())
        kwargs = {key: value for key, value in details.items() if takes_any or key in parameters}
        if "context_variables" in parameters or takes_any:
            kwargs["context_variables"] = context_variables
        call_to_completion(spec.function, **kwargs)
    except Exception:
        logger.exception("workflow %s: lifecycle tool %s (%s, %s) failed; the run goes on", bundle.name,
                         getattr(spec.function, "__name__", spec.function), spec.trigger, spec.file)


def register_agent_triggers(bundle: WorkflowBundle, agent: Any) -> None:
    """``before_agent`` / ``after_agent`` tools of ``agent`` as AG2 hooks (before its reply, as it sends)."""
    name = agent.name
    wanted = {spec.trigger for spec in bundle.lifecycle_tools if spec.agent in (None, name)}
    if "before_agent" in wanted:
        def before(messages: Any) -> None:
            run_lifecycle(bundle, "before_agent", agent.context_variables, agent=name)

        agent.register_hook("update_agent_state", lambda _agent, messages: before(messages))
    if "after_agent" in wanted:
        def after(sender: Any, message: Any, recipient: Any, silent: bool) -> Any:
            run_lifecycle(bundle, "after_agent", agent.context_variables, agent=name)
            return message

        agent.register_hook("process_message_before_send", after)
