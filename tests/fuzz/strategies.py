"""Hypothesis strategies shared by the fuzz tests: JSON-like trees and YAML documents built from them."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
)

# Keys the real documents use, so generated trees reach past the first "unknown key" check.
KNOWN_KEYS = st.sampled_from([
    "type", "data", "text", "eventId", "event_id", "response", "last_seq", "lastClientIndex", "input_request_id",
    "workflow_name", "entry_point", "max_turns", "startup_mode", "orchestration_pattern", "initial_agent",
    "agents", "name", "prompt_sections", "system_message", "tools", "agent", "file", "function", "tool_type",
    "ui", "component", "mode", "handoff_rules", "source_agent", "target_agent", "handoff_type", "condition",
    "condition_type", "definitions", "source", "default", "turns", "say", "tool_call", "usage", "schema",
    "module", "id", "display_name", "version", "handler", "permissions", "actions", "input_schema", "emits",
    "roles", "object", "created", "customer", "subscription", "metadata", "status", "items", "plan",
])
KEYS = st.one_of(KNOWN_KEYS, st.text(max_size=12))


def json_trees(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-compatible values whose dict keys are biased towards the real schemas' keys."""
    return st.recursive(
        SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(KEYS, children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def yaml_documents() -> st.SearchStrategy[str]:
    """YAML text: a dumped random tree, or raw text that is often not YAML at all."""
    dumped = json_trees().map(lambda tree: yaml.safe_dump(tree, allow_unicode=True))
    broken = st.sampled_from([
        "key: [unclosed", "\t- tab indented", "a: b: c", "!!python/object:os.system {}", "? complex\n: key",
        "*undefined_alias", "%YAML 9.9\n---\nx: 1", "---\n...\n---", "x: &a [*a]", "\x00\x01binary",
        "agents:\n  - name: [1, 2]\n    prompt_sections: 7",
    ])
    return st.one_of(dumped, broken, st.text(max_size=200))


def replace_at(tree: Any, path: list[Any], value: Any) -> Any:
    """A copy of ``tree`` with the node at ``path`` (dict keys / list indexes, clamped) replaced by ``value``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict) and tree:
        key = list(tree)[head % len(tree)] if isinstance(head, int) else head
        return {**tree, key: replace_at(tree.get(key), rest, value)}
    if isinstance(tree, list) and tree:
        index = head % len(tree) if isinstance(head, int) else 0
        return [*tree[:index], replace_at(tree[index], rest, value), *tree[index + 1:]]
    return value


PATHS = st.lists(st.integers(min_value=0, max_value=20), max_size=4)


def _nest(depth: int, shape: str, leaf: str) -> str:
    if shape == "array":
        return "[" * depth + leaf + "]" * depth
    if shape == "object":
        return '{"data":' * depth + leaf + "}" * depth
    return '{"a":[' * (depth // 2) + leaf + "]}" * (depth // 2)


def nested_json(max_depth: int = 3000) -> st.SearchStrategy[str]:
    """JSON text nested up to ``max_depth`` levels (arrays, objects or both), built as text because
    ``json.dumps`` itself recurses; around the configured limit (64) and past the interpreter's
    recursion limit (1,000), so both the limit and the crash it prevents are reached."""
    return st.builds(_nest, st.one_of(st.integers(1, 80), st.integers(min(1000, max_depth), max_depth)),
                     st.sampled_from(["array", "object", "mixed"]), json_trees(3).map(json.dumps))


def nested_yaml(max_depth: int = 1500) -> st.SearchStrategy[str]:
    """YAML nested deep (flow or block style) or an alias bomb of a random fan-out."""
    flow = nested_json(max_depth)
    block = st.one_of(st.integers(1, 80), st.integers(300, max_depth)).map(lambda depth: "- " * depth + "x\n")
    bomb = st.integers(2, 12).map(lambda fan: "a: &a [" + ", ".join(["1"] * fan) + "]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * fan)}]\n" for i in range(7)))
    return st.one_of(flow, block, bomb, st.just("x: &a [*a]\n"))
