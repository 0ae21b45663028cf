"""``auto_tool_mode``: an agent's structured output runs its auto-invoked tool (MozaiksAI semantics).

An agent with ``auto_tool_mode: true`` and a structured output model answers with that model
instead of calling tools: its tools are not offered to the model. Each reply that validates
against the model runs the agent's auto-invoked tool (a ``UI_Tool`` unless ``auto_invoke:
false``, any tool with ``auto_invoke: true``) once, in a thread of its own while the run waits,
right after the group received the reply (the chat shows the reply first) and before the next
speaker is chosen. The
tool's parameters are filled from the output's fields (names compared without case and
underscores, so ``phaseAgents`` fills ``phase_agents``), then from ``chat_id``,
``app_id``, ``workflow_name``, ``agent_name``/``agent`` and ``turn_idempotency_key`` when the
function asks for them, and ``context_variables`` is the run's own (writes reach later
handoffs). The chat sees a ``chat.tool_call`` (``interaction_type: auto_tool``, not awaiting a
response) and a ``chat.tool_response`` with the result; a UI tool called this way still shows
its own component through ``use_ui_tool``. A reply that is not valid JSON for the model runs
nothing (logged); a tool that raises reports ``success: false`` and the chat goes on.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from mozaiks_core.runtime.bundles.models import ToolSpec, WorkflowBundle
from mozaiks_core.runtime.engine.events import RunEventStream
from mozaiks_core.runtime.engine.structured import response_format_for
from mozaiks_core.runtime.engine.tools import CONTEXT_PARAMETER, call_to_completion

logger = logging.getLogger("mozaiks_core.runtime.engine")

_CONTEXT_FALLBACKS = ("chat_id", "app_id", "workflow_name")


@dataclass(frozen=True)
class AutoTool:
    """The tool an agent's structured output runs, and how to call it."""

    agent: str
    tool: ToolSpec
    model: type[BaseModel]
    parameters: dict[str, str]  # normalized name -> parameter name
    takes_context: bool


def auto_tool_for(bundle: WorkflowBundle, agent: str) -> AutoTool | None:
    """The auto-invoked tool of ``agent``, or ``None`` when its structured outputs invoke nothing."""
    spec = bundle.agents.get(agent)
    if spec is None or not spec.auto_tool_mode:
        return None
    model = response_format_for(bundle, agent)
    tool = next((tool for tool in bundle.tools_for(agent) if tool.invoked_automatically), None)
    if model is None or tool is None or not isinstance(model, type):
        return None
    signature = inspect.signature(tool.function)
    parameters = {
        _normalized(name): name for name, parameter in signature.parameters.items()
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and name != CONTEXT_PARAMETER
    }
    return AutoTool(agent, tool, model, parameters, CONTEXT_PARAMETER in signature.parameters)


def sent_message_content(message: Any) -> str | None:
    """The text of a message an agent sent, or ``None`` for a tool call or a non-text message."""
    if isinstance(message, str):
        return message
    if isinstance(message, dict) and not message.get("tool_calls") and isinstance(message.get("content"), str):
        return message["content"]
    return None


def invoke_auto_tool(auto_tool: AutoTool, content: str, events: RunEventStream, context_variables: Any) -> None:
    """Validate ``content`` against the agent's model and run the tool with its fields."""
    try:
        output = auto_tool.model.model_validate_json(content).model_dump(mode="json")
    except (ValidationError, ValueError) as error:
        logger.info("agent %s: reply is not a %s output, no auto tool run (%s)", auto_tool.agent,
                    auto_tool.model.__name__, str(error).splitlines()[0])
        return
    call_id = f"auto-{uuid.uuid4().hex}"
    kwargs = _arguments(auto_tool, output, context_variables, call_id)
    name = auto_tool.tool.name
    events.bridge.emit("chat.tool_call", {
        "tool_name": name, "tool_call_id": call_id, "corr": call_id, "agent": auto_tool.agent,
        "arguments": {key: value for key, value in kwargs.items() if key != CONTEXT_PARAMETER},
        "tool_type": auto_tool.tool.tool_type, "awaiting_response": False, "interaction_type": "auto_tool",
        "component_type": auto_tool.tool.ui.component if auto_tool.tool.ui else None,
    })
    try:
        result, success = call_to_completion(auto_tool.tool.function, **kwargs), True
    except Exception as error:  # reported to the chat; the run goes on as after a failing tool call
        logger.exception("agent %s: auto tool %s failed", auto_tool.agent, name)
        result, success = {"status": "error", "message": str(error)}, False
    if isinstance(result, dict) and str(result.get("status", "")).lower() in {"error", "failed"}:
        success = False
    events.bridge.emit("chat.tool_response", {
        "tool_name": name, "tool_call_id": call_id, "corr": call_id, "agent": auto_tool.agent,
        "content": _json_safe(result), "success": success, "interaction_type": "auto_tool",
    })


def _arguments(auto_tool: AutoTool, output: dict[str, Any], context_variables: Any, call_id: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, value in output.items():
        parameter = auto_tool.parameters.get(_normalized(str(key)))
        if parameter is not None:
            kwargs[parameter] = value
    known = {name: context_variables.get(name) for name in _CONTEXT_FALLBACKS}
    known.update({"agent_name": auto_tool.agent, "agent": auto_tool.agent, "turn_idempotency_key": call_id})
    for key, value in known.items():
        parameter = auto_tool.parameters.get(_normalized(key))
        if parameter is not None and parameter not in kwargs and value is not None:
            kwargs[parameter] = value
    if auto_tool.takes_context:
        kwargs[CONTEXT_PARAMETER] = context_variables
    return kwargs


def _json_safe(value: Any) -> Any:
    """A tool's result as event data: JSON structures kept, models dumped, anything else as text."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str))


def _normalized(name: str) -> str:
    return "".join(character.lower() for character in name if character.isalnum())
