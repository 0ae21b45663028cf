"""The scripted model: replies read from a script instead of an LLM (DESIGN.md "The scripted model").

A script is ``turns:``, consumed in order; a turn with ``agent`` goes to that agent's queue and
is only given to that agent, turns without ``agent`` serve whoever asks next. A turn says text
(``say``) or calls a tool (``tool_call: {name, arguments}``) and reports ``usage`` or an
estimate. :class:`ScriptedModelClient` is an AG2 model client (``model_client_cls``) that reads
one :class:`Script` shared by all agents of a run.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mozaiks_core.runtime.bundles.scripts import ScriptInvalid, ScriptTurn, load_script_file, parse_script_data

SCRIPTED_MODEL_NAME = "mozaiks-scripted"


class ScriptExhausted(Exception):
    """The script has no turn left for the agent that asked: the run ends with SCRIPT_EXHAUSTED."""

    error_code = "SCRIPT_EXHAUSTED"


@dataclass(frozen=True)
class ScriptPlan:
    """A script's turns split into per-agent queues and the shared queue: immutable, shared by runs."""

    per_agent: dict[str, tuple[ScriptTurn, ...]]
    shared: tuple[ScriptTurn, ...]

    @classmethod
    def of(cls, turns: list[ScriptTurn] | tuple[ScriptTurn, ...]) -> ScriptPlan:
        per_agent: dict[str, list[ScriptTurn]] = {}
        shared: list[ScriptTurn] = []
        for turn in turns:
            if turn.agent:
                per_agent.setdefault(turn.agent, []).append(turn)
            else:
                shared.append(turn)
        return cls({agent: tuple(queue) for agent, queue in per_agent.items()}, tuple(shared))


PLAN_CACHE_SIZE = 32
_plans: dict[Any, tuple[Any, ScriptPlan]] = {}
_plans_lock = threading.Lock()


def _cached_plan(key: Any, keep: Any, build: Callable[[], list[ScriptTurn]]) -> ScriptPlan:
    """The plan stored under ``key`` (built once). ``keep`` is held with it: an ``id()`` in the key
    then names the same object for as long as the entry lives."""
    with _plans_lock:
        entry = _plans.get(key)
    if entry is not None:
        return entry[1]
    plan = ScriptPlan.of(build())
    with _plans_lock:
        if len(_plans) >= PLAN_CACHE_SIZE:
            _plans.pop(next(iter(_plans)))
        _plans[key] = (keep, plan)
    return plan


def plan_for_data(data: Any) -> ScriptPlan:
    """The plan of a bundle's script mapping, parsed once per loaded bundle (a reload gives a new mapping).

    Every run used to parse and copy the whole script: fifty chats of a 2,000-turn script kept
    200,000 objects that each full garbage collection walked (70-120 ms pauses of the server).
    """
    return _cached_plan(("data", id(data)), data, lambda: parse_script_data(data))


def plan_for_file(path: Path) -> ScriptPlan:
    """The plan of the ``MOZAIKS_LLM_SCRIPT`` file, read again when the file changes."""
    try:
        stat = path.stat()
    except OSError:
        return ScriptPlan.of(load_script_file(path))  # raises ScriptInvalid naming the missing file
    key = ("file", str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return _cached_plan(key, None, lambda: load_script_file(path))


class Script:
    """The turns of one run: per-agent queues plus a shared queue for turns without ``agent``.

    The turns are a shared, immutable :class:`ScriptPlan`; a run only keeps its place in each queue.
    """

    def __init__(self, turns: list[ScriptTurn] | ScriptPlan) -> None:
        self._plan = turns if isinstance(turns, ScriptPlan) else ScriptPlan.of(turns)
        self._next_shared = 0
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_for(self, agent: str) -> ScriptTurn:
        """The next turn for ``agent``; raises :class:`ScriptExhausted` when none is left."""
        with self._lock:
            queue = self._plan.per_agent.get(agent, ())
            position = self._next.get(agent, 0)
            if position < len(queue):
                self._next[agent] = position + 1
                return queue[position]
            if self._next_shared < len(self._plan.shared):
                self._next_shared += 1
                return self._plan.shared[self._next_shared - 1]
        raise ScriptExhausted(
            f"The scripted model has no reply left for agent {agent!r}. Add a turn for {agent} to the script "
            "(MOZAIKS_LLM_SCRIPT or the workflow's scripted_model.yaml), or use a real model."
        )

    def skip_replayed(self, messages: list[dict[str, Any]], agents: set[str]) -> None:
        """Drop the turns a resumed history already holds, so the resumed run continues the script."""
        for message in messages:
            name = message.get("name")
            spoke = message.get("content") or message.get("tool_calls")
            if name in agents and message.get("role") != "tool" and spoke:
                try:
                    self.next_for(name)
                except ScriptExhausted:
                    return


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters a token), used when a turn gives no ``usage``."""
    return tokens_for_length(len(text))


def tokens_for_length(characters: int) -> int:
    """:func:`estimate_tokens` of a text of ``characters`` characters."""
    return max(1, characters // 4)


def prompt_tokens_of(messages: list[dict[str, Any]]) -> int:
    """:func:`estimate_tokens` of a call's prompt messages (what the scripted model reports for them)."""
    return tokens_for_length(_prompt_length(messages))


def _prompt_length(messages: list[dict[str, Any]]) -> int:
    """Characters of the messages' contents (no joined copy of a long history)."""
    total = 0
    for message in messages:  # a plain loop: a quarter faster than nested generators, per reply
        content = message.get("content")
        if type(content) is str:
            total += len(content)
        elif content:
            total += len(str(content))
    return total


class ScriptedModelClient:
    """AG2 model client (``model_client_cls: ScriptedModelClient``) answering from a :class:`Script`."""

    bound_script: Script | None = None  # set on per-run subclasses AG2 instantiates without kwargs
    bound_agent: str = ""

    def __init__(
        self, config: dict[str, Any], *, script: Script | None = None, agent_name: str | None = None, **_: Any
    ) -> None:
        script = script or self.bound_script
        if script is None:
            raise ScriptInvalid("ScriptedModelClient needs a script")
        self.script = script
        self.agent_name = agent_name or self.bound_agent
        self.model = config.get("model", SCRIPTED_MODEL_NAME)

    def create(self, params: dict[str, Any]) -> SimpleNamespace:
        """Return the agent's next scripted turn as an OpenAI-shaped completion."""
        turn = self.script.next_for(self.agent_name)
        if turn.tool_name:
            arguments = json.dumps(turn.tool_arguments)
            message = SimpleNamespace(
                role="assistant", content=None, function_call=None,
                tool_calls=[{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                             "function": {"name": turn.tool_name, "arguments": arguments}}],
            )
            produced = turn.tool_name + arguments
        else:
            message = SimpleNamespace(role="assistant", content=turn.say, function_call=None, tool_calls=None)
            produced = turn.say or ""
        usage = turn.usage or {
            "prompt_tokens": tokens_for_length(_prompt_length(params.get("messages", []))),
            "completion_tokens": estimate_tokens(produced),
        }
        prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        return SimpleNamespace(
            id=f"scripted-{uuid.uuid4().hex}",  # AG2 drops replies of responses without an id
            model=self.model,
            choices=[SimpleNamespace(index=0, finish_reason="stop", message=message)],
            usage=SimpleNamespace(prompt_tokens=prompt, completion_tokens=completion,
                                  total_tokens=prompt + completion),
            cost=0.0,
        )

    def message_retrieval(self, response: SimpleNamespace) -> list[Any]:
        """Text for plain replies, a message dict for tool calls (what AG2 expects)."""
        message = response.choices[0].message
        if message.tool_calls:
            return [{"role": "assistant", "content": None, "tool_calls": message.tool_calls}]
        return [message.content]

    def cost(self, response: SimpleNamespace) -> float:
        """Scripted replies are free."""
        return 0.0

    @staticmethod
    def get_usage(response: SimpleNamespace) -> dict[str, Any]:
        """Usage in AG2's summary shape, so AG2's own accounting sees the scripted tokens."""
        return {
            "prompt_tokens": response.usage.prompt_tokens,
            "completion_tokens": response.usage.completion_tokens,
            "total_tokens": response.usage.total_tokens,
            "cost": 0.0,
            "model": response.model,
        }


def bound_client_class(script: Script, agent_name: str) -> type[ScriptedModelClient]:
    """A client class answering as ``agent_name`` from ``script`` (AG2's speaker selector takes a class)."""
    attributes = {"bound_script": script, "bound_agent": agent_name}
    return type(ScriptedModelClient.__name__, (ScriptedModelClient,), attributes)
