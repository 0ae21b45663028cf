"""Equivalent, cheaper versions of two AG2 0.14 steps that every reply of a group chat pays.

Measured with a per-thread CPU profile of 50 concurrent chats (``benchmarks/runtime.py`` (b)):
these two steps were more than half of the CPU time of the runs' threads.

- **Tool-message filter.** A group chat registers ``make_remove_function(...)`` on every agent
  (``process_all_messages_before_reply``): before each reply it ``copy.deepcopy``-ed the whole
  history to drop the calls of handoff tools, so a turn cost grew with the chat's length (a
  100-message chat: ~1 ms per turn). :func:`filter_tool_messages` returns the same messages,
  each a shallow copy (a new dict per message, new lists only where it removes calls): what the
  reply functions and model clients assign to a message's keys never reaches the stored history.
  :class:`ToolMessageFilter`, the hook installed per agent, remembers which messages of the
  (append-only) history carry tool calls or responses, so a reply copies the history and
  re-examines only those: at fifty chats of a thousand messages the filter was still 9.5 % of the
  event loop's time, half of it the per-message checks.
- **Reply-trigger matching.** ``ConversableAgent._match_trigger`` tests ``isinstance(sender,
  Agent)`` where ``Agent`` is a runtime-checkable ``Protocol``: on Python 3.11 each test walks the
  protocol's members, several times per reply. :func:`match_trigger` remembers the answer per
  (trigger class, sender class); every other kind of trigger is matched by AG2 itself.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterable
from typing import Any

from autogen import ConversableAgent

_AG2_FILTER = ("autogen.agentchat.group.group_utils", "remove_messages")
_CLASS_MATCHES: dict[tuple[type, type], bool] = {}


def filter_tool_messages(messages: list[dict[str, Any]], tool_msgs_to_remove: list[str]) -> list[dict[str, Any]]:
    """AG2's group tool-message filter without the deep copy: same messages kept, same calls removed.

    Drops the tool calls named in ``tool_msgs_to_remove`` and their tool responses; a message
    left with neither calls nor content is dropped, as is a response message left empty. Every
    message is a shallow copy: AG2's OpenAI client rewrites ``role`` and ``content`` of the
    messages it is given for some models (DeepSeek reasoner, Mistral, o1), and those writes must
    not reach the stored history.
    """
    copies = list(map(dict, messages))
    return _without_removed_calls(copies, range(len(copies)), tool_msgs_to_remove)


def _carries_tools(message: dict[str, Any]) -> bool:
    return message.get("tool_calls") is not None or message.get("tool_responses") is not None


def _without_removed_calls(copies: list[dict[str, Any]], carrying: Iterable[int],
                           tool_msgs_to_remove: list[str]) -> list[dict[str, Any]]:
    """``copies`` (shallow copies of the history) filtered in place; ``carrying``: the indexes, in
    order, of every message with tool calls or tool responses (no other message changes)."""
    removed_ids: set[str] = set()
    dropped: list[int] = []
    for index in carrying:
        message = copies[index]
        tool_calls = message.get("tool_calls")
        if tool_calls is not None:
            remaining = []
            for call in tool_calls:
                function = call.get("function")
                if function is not None and function["name"] in tool_msgs_to_remove:
                    removed_ids.add(call["id"])
                else:
                    remaining.append(call)
            if remaining:
                message["tool_calls"] = remaining
            else:
                del message["tool_calls"]
                if message.get("content") in (None, "", "None"):
                    dropped.append(index)
        elif message.get("tool_responses") is not None:
            responses = [item for item in message["tool_responses"] if item["tool_call_id"] not in removed_ids]
            if responses:
                message["tool_responses"] = responses
            else:
                dropped.append(index)
    for index in reversed(dropped):
        del copies[index]
    return copies


class ToolMessageFilter:
    """:func:`filter_tool_messages` for one agent's history, which AG2 only appends to.

    It remembers the messages it has seen (the same objects) and which of them carry tool calls
    or responses. A call whose history starts with those same messages examines only the new
    ones; any other history (a message replaced or removed) is examined afresh. The result is
    the same: fresh shallow copies, the named calls and their responses removed.
    """

    def __init__(self, tool_msgs_to_remove: list[str]) -> None:
        self.tool_msgs_to_remove = tool_msgs_to_remove
        self._seen: list[dict[str, Any]] = []
        self._carrying: list[int] = []

    def __call__(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = self._seen
        if len(messages) < len(seen) or messages[:len(seen)] != seen:
            seen, self._carrying = [], []
            self._seen = seen
        for index in range(len(seen), len(messages)):
            message = messages[index]
            if _carries_tools(message):
                self._carrying.append(index)
            seen.append(message)
        copies = list(map(dict, messages))
        if not self._carrying:
            return copies
        return _without_removed_calls(copies, self._carrying, self.tool_msgs_to_remove)


def match_trigger(agent: ConversableAgent, trigger: Any, sender: Any) -> bool:
    """``ConversableAgent._match_trigger`` with class triggers answered from a cache.

    ``isinstance(sender, trigger)`` depends on the sender's class for ordinary classes; for the
    runtime-checkable protocols AG2 uses (``Agent``, ``LLMAgent``) it depends on methods and
    properties that agent classes define, so the class decides there too.
    """
    if isinstance(trigger, type):
        key = (trigger, type(sender))
        matched = _CLASS_MATCHES.get(key)
        if matched is None:
            matched = _CLASS_MATCHES[key] = isinstance(sender, trigger)
        return matched
    if isinstance(trigger, list):
        return any(match_trigger(agent, item, sender) for item in trigger)
    return ConversableAgent._match_trigger(agent, trigger, sender)


def speed_up(agents: list[Any]) -> int:
    """Install both fast paths on ``agents`` (a group chat's members and manager); the filters replaced."""
    replaced = 0
    for agent in agents:
        if isinstance(agent, ConversableAgent):
            agent._match_trigger = types.MethodType(match_trigger, agent)  # type: ignore[method-assign]
        hooks = getattr(agent, "hook_lists", {}).get("process_all_messages_before_reply", [])
        for index, hook in enumerate(hooks):
            function = getattr(hook, "func", None)
            if isinstance(hook, functools.partial) and (
                getattr(function, "__module__", None), getattr(function, "__name__", None)
            ) == _AG2_FILTER:
                hooks[index] = ToolMessageFilter(**hook.keywords)
                replaced += 1
    return replaced
