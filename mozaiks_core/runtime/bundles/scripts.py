"""The scripted model's script file: ``turns:`` of ``say`` or ``tool_call`` replies (DESIGN.md "The scripted model").

The format belongs to the bundle (``scripted_model.yaml``) as much as to the model, so it is read
and validated here, with the bundle's problem collector; :mod:`mozaiks_core.runtime.llm.scripted`
plays the turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mozaiks_core.runtime.bundles.reader import ProblemCollector

USAGE_KEYS = ("prompt_tokens", "completion_tokens")


class ScriptInvalid(ValueError):
    """The script file is malformed (the message names the turn and the fix)."""


@dataclass(frozen=True)
class ScriptTurn:
    """One scripted reply."""

    agent: str | None = None
    say: str | None = None
    tool_name: str | None = None
    tool_arguments: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int] | None = None


def validate_script(problems: ProblemCollector, file: str, data: Any) -> list[ScriptTurn]:
    """Parse a script, recording a precise error per malformed turn."""
    turns: list[ScriptTurn] = []
    data = problems.mapping(file, data)
    for index, raw in enumerate(problems.sequence(file, data.get("turns"), "turns")):
        where = f"turns[{index}]"
        if not isinstance(raw, dict):
            problems.error("script.bad_turn", file, where, "a turn must be a mapping.",
                           "Write e.g. `- agent: Name` / `  say: Hello`.")
            continue
        say, call = raw.get("say"), raw.get("tool_call")
        if (say is None) == (call is None):
            problems.error("script.bad_turn", file, where, "a turn needs exactly one of say or tool_call.",
                           "Give the turn either say: <text> or tool_call: {name, arguments}.")
            continue
        if call is not None and not (isinstance(call, dict) and isinstance(call.get("name"), str)):
            problems.error("script.bad_tool_call", file, f"{where}.tool_call", "tool_call needs a name.",
                           "Write tool_call: {name: my_tool, arguments: {key: value}}.")
            continue
        arguments = (call or {}).get("arguments") or {}
        if not isinstance(arguments, dict):
            problems.error("script.bad_tool_call", file, f"{where}.tool_call.arguments",
                           "arguments must be a mapping.", "Write arguments: {key: value}.")
            continue
        usage = raw.get("usage")
        if usage is not None and not (
            isinstance(usage, dict) and all(isinstance(usage.get(k), int) for k in USAGE_KEYS)
        ):
            problems.error("script.bad_usage", file, f"{where}.usage",
                           "usage needs integer prompt_tokens and completion_tokens.",
                           "Write usage: {prompt_tokens: 120, completion_tokens: 9} or leave it out.")
            continue
        turns.append(ScriptTurn(
            agent=str(raw["agent"]) if raw.get("agent") else None,
            say=str(say) if say is not None else None,
            tool_name=call["name"] if call else None,
            tool_arguments=arguments,
            usage=usage,
        ))
    return turns


def load_script_file(path: Path) -> list[ScriptTurn]:
    """Read the script named by ``MOZAIKS_LLM_SCRIPT``; raises :class:`ScriptInvalid` with every problem."""
    problems = ProblemCollector(path.parent)
    turns = validate_script(problems, path.name, problems.read(path.name, required=True))
    if problems.has_errors:
        raise ScriptInvalid("; ".join(str(problem) for problem in problems.problems))
    return turns


def parse_script_data(data: Any) -> list[ScriptTurn]:
    """Turns of an already-validated script mapping (a bundle's ``scripted_model.yaml``)."""
    problems = ProblemCollector(Path())
    turns = validate_script(problems, "scripted_model.yaml", data)
    if problems.has_errors:
        raise ScriptInvalid("; ".join(str(problem) for problem in problems.problems))
    return turns
