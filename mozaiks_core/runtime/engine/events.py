"""Turn AG2's output events into chat events: ``chat.text``, ``chat.tool_call``, ``chat.tool_response``,
``chat.select_speaker`` and streamed ``chat.print`` deltas.

AG2 reports everything a group chat does through the IOStream of the running thread; this
stream replaces the console one for a run and forwards to the :class:`HookBridge`.
"""

from __future__ import annotations

import json
from typing import Any

from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.engine.bridge import HookBridge

USER_AGENT_NAME = "user"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return str(value)


class RunEventStream:
    """An AG2 IOStream for one run: events go to the hooks, console output is dropped."""

    def __init__(self, bridge: HookBridge, bundle: WorkflowBundle, *, hidden_seed: str | None) -> None:
        self.bridge = bridge
        self.bundle = bundle
        self.hidden_seed = hidden_seed
        self.speaker: str | None = None
        self.last_assistant: str | None = None  # who spoke last before the user is asked for input
        self.tool_calls: dict[str, tuple[str, str]] = {}  # tool_call_id → (tool name, agent)
        self.handoff_calls: set[str] = set()  # AG2's transfer_to_* functions of string_llm conditions
        self.visual = set(bundle.visual_agents) if bundle.visual_agents is not None else None
        self._handlers = {
            "text": self._text,
            "tool_call": self._tool_call,
            "tool_response": self._tool_response,
            "group_chat_run_chat": self._speaker,
            "stream": self._stream,
        }

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        """Console output of AG2 is not part of the chat."""

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        """Human input goes through the user agent's ``get_human_input``, never the console."""
        raise RuntimeError("console input is not available in a MozaiksCore run")

    def send(self, message: Any) -> None:
        """Forward the AG2 events a chat shows; ignore the rest."""
        handler = self._handlers.get(getattr(message, "type", ""))
        if handler is not None:
            handler(message.content)

    def text(self, sender: str, content: Any, role: str) -> None:
        """Emit one ``chat.text`` (also used for ``initial_message_to_user``)."""
        data: dict[str, Any] = {"agent": sender, "content": content, "role": role}
        if self.visual is not None:
            data["visual"] = sender in self.visual or role == "user"
        if sender in self.bundle.structured_registry and isinstance(content, str):
            try:
                data["structured_output"] = json.loads(content)
                data["structured_schema"] = self.bundle.structured_registry[sender]
            except ValueError:
                pass
        self.bridge.emit("chat.text", data)

    def _text(self, event: Any) -> None:
        content = event.content
        sender = event.sender
        if self.hidden_seed is not None and content == self.hidden_seed:
            self.hidden_seed = None  # the initial_message seeds the run; it is not a user message
            return
        if sender == "_User":  # AG2's stand-in sender of a first user message
            sender = USER_AGENT_NAME
        if sender.startswith("_") or content in (None, ""):
            return
        role = "user" if sender == USER_AGENT_NAME else "assistant"
        if role == "assistant":
            self.last_assistant = sender
        self.text(sender, content, role)

    def _tool_call(self, event: Any) -> None:
        for call in event.tool_calls:
            name = call.function.name if call.function else ""
            spec = next((tool for tool in self.bundle.tools if tool.name == name), None)
            if spec is None and name.startswith("transfer_to_"):
                self.handoff_calls.add(call.id or "")  # a handoff, shown as the next chat.select_speaker
                continue
            self.tool_calls[call.id or ""] = (name, event.sender)
            tool_type = spec.tool_type if spec else "Agent_Tool"
            if tool_type == "UI_Tool":
                continue  # the UI frame itself is emitted by use_ui_tool through request_ui_tool
            try:
                arguments = json.loads(call.function.arguments or "{}")
            except ValueError:
                arguments = {"raw": call.function.arguments}
            self.bridge.emit("chat.tool_call", {
                "tool_name": name, "tool_call_id": call.id, "agent": event.sender, "arguments": arguments,
                "tool_type": tool_type, "awaiting_response": False,
            })

    def _tool_response(self, event: Any) -> None:
        for response in event.tool_responses:
            if response.tool_call_id in self.handoff_calls:
                self.handoff_calls.discard(response.tool_call_id)
                continue
            name, agent = self.tool_calls.pop(response.tool_call_id or "", ("", ""))
            content = _jsonable(response.content)
            self.bridge.emit("chat.tool_response", {
                "tool_name": name, "tool_call_id": response.tool_call_id, "agent": agent, "content": content,
                "success": not (isinstance(content, str) and content.startswith("Error:")),
            })

    def _speaker(self, event: Any) -> None:
        speaker = event.speaker
        if speaker.startswith("_") or speaker == self.speaker:
            return
        self.speaker = speaker
        if speaker == USER_AGENT_NAME:
            return  # the user's turn is the chat.input_request itself (the ChatUI would show "user - thinking")
        self.bridge.emit("chat.select_speaker", {"agent": speaker})

    def _stream(self, event: Any) -> None:
        if event.content:
            self.bridge.emit_transient("chat.print", {"agent": self.speaker or "", "content": event.content})
