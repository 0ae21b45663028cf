"""Typed, validated models of one workflow bundle (the MozaiksAI declarative format).

The loader turns the YAML files of a bundle folder into these frozen dataclasses; the engine
reads only these, never the raw YAML, so a later engine gets the same validated input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PATTERNS = ("DefaultPattern", "AutoPattern", "RoundRobinPattern", "RandomPattern")
STARTUP_MODES = ("AgentDriven", "UserDriven", "BackendOnly")
TOOL_TYPES = ("Agent_Tool", "UI_Tool")
# lifecycle_tools triggers of the MozaiksAI format: run-level, chat-level and per-agent-turn.
LIFECYCLE_TRIGGERS = ("on_start", "before_chat", "before_agent", "after_agent", "after_chat", "on_complete",
                      "on_fail")
USER_TARGETS = ("user", "User", "USER")
TERMINATE_TARGETS = ("terminate", "Terminate", "TERMINATE", "end")


@dataclass(frozen=True)
class PromptSection:
    """One ``prompt_sections`` entry: rendered as ``heading\\ncontent``."""

    id: str
    heading: str
    content: str

    def render(self) -> str:
        """The section as it appears in the system prompt."""
        return f"{self.heading}\n{self.content}" if self.heading else self.content


@dataclass(frozen=True)
class AgentSpec:
    """One agent of ``agents.yaml``."""

    name: str
    system_message: str
    prompt_sections: tuple[PromptSection, ...] = ()
    max_consecutive_auto_reply: int | None = None
    auto_tool_mode: bool = False
    structured_outputs_required: bool = False
    description: str = ""


@dataclass(frozen=True)
class UIToolSpec:
    """The ``ui`` block of a UI tool: which component renders it and where."""

    component: str
    mode: str = "inline"


@dataclass(frozen=True)
class ToolSpec:
    """One ``tools.yaml`` entry with its resolved Python function."""

    name: str
    agents: tuple[str, ...]
    file: str
    function: Callable[..., Any]
    description: str
    tool_type: str
    auto_invoke: bool | None = None  # as declared; None: not declared
    ui: UIToolSpec | None = None

    @property
    def invoked_automatically(self) -> bool:
        """Run from its agent's structured output under ``auto_tool_mode`` (MozaiksAI: a UI tool
        unless ``auto_invoke: false``, any other tool only with ``auto_invoke: true``)."""
        return self.auto_invoke if self.auto_invoke is not None else self.tool_type == "UI_Tool"


@dataclass(frozen=True)
class LifecycleToolSpec:
    """One ``lifecycle_tools`` entry: ``function`` runs at ``trigger`` (for ``agent`` only, if named)."""

    trigger: str
    agent: str | None
    file: str
    function: Callable[..., Any]
    description: str = ""


@dataclass(frozen=True)
class HandoffRule:
    """One ``handoff_rules`` entry. ``target_agent`` is an agent name, ``user`` or ``terminate``."""

    source_agent: str
    target_agent: str
    handoff_type: str  # "after_work" | "condition"
    condition_type: str | None = None  # "expression" | "string_llm" | None
    condition: str | None = None

    @property
    def from_user(self) -> bool:
        """True when the rule applies after the human spoke."""
        return self.source_agent in USER_TARGETS

    @property
    def targets_user(self) -> bool:
        """True when control goes back to the human."""
        return self.target_agent in USER_TARGETS

    @property
    def terminates(self) -> bool:
        """True when the rule ends the chat."""
        return self.target_agent in TERMINATE_TARGETS


@dataclass(frozen=True)
class ContextVariableSpec:
    """One ``context_variables.yaml`` definition; ``default`` seeds the run."""

    name: str
    type: str = "string"
    description: str = ""
    source_type: str = "state"
    default: Any = None
    env_var: str | None = None


@dataclass(frozen=True)
class StructuredField:
    """One field of a structured output model (``type`` uses the MozaiksAI names: str, int, list, ...)."""

    name: str
    type: str
    description: str = ""
    items: str | None = None
    values: tuple[Any, ...] = ()
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class StructuredModel:
    """A named structured output model (``type: model``), or a literal/union helper type."""

    name: str
    kind: str  # "model" | "literal" | "union"
    fields: tuple[StructuredField, ...] = ()
    values: tuple[Any, ...] = ()
    variants: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class HookSpec:
    """One ``hooks.yaml`` entry: an AG2 hookable method on one agent (or ``all``)."""

    hook_type: str
    agent: str
    function: Callable[..., Any]


@dataclass(frozen=True)
class Orchestrator:
    """``orchestrator.yaml``: how the run starts and which pattern drives it."""

    workflow_name: str
    max_turns: int = 20
    human_in_the_loop: bool = False
    startup_mode: str = "AgentDriven"
    orchestration_pattern: str = "DefaultPattern"
    initial_message: str | None = None
    initial_message_to_user: str | None = None
    initial_agent: str | None = None
    entry_point: bool = False
    description: str = ""
    display_name: str = ""  # what people read ("Product launch"); the workflow_name stays the id
    model: str | None = None
    llm_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowBundle:
    """A loaded, validated workflow: everything the engine needs for one run."""

    name: str
    path: Path
    orchestrator: Orchestrator
    agents: dict[str, AgentSpec]
    tools: tuple[ToolSpec, ...] = ()
    lifecycle_tools: tuple[LifecycleToolSpec, ...] = ()
    handoffs: tuple[HandoffRule, ...] = ()
    context_variables: tuple[ContextVariableSpec, ...] = ()
    structured_models: dict[str, StructuredModel] = field(default_factory=dict)
    structured_registry: dict[str, str] = field(default_factory=dict)
    hooks: tuple[HookSpec, ...] = ()
    visual_agents: tuple[str, ...] | None = None
    script: dict[str, Any] | None = None  # parsed scripted_model.yaml, when present

    @property
    def entry_agent(self) -> str:
        """The agent that speaks first: ``initial_agent`` or the first declared agent."""
        initial = self.orchestrator.initial_agent
        return initial if initial in self.agents else next(iter(self.agents))

    def tools_for(self, agent: str) -> list[ToolSpec]:
        """The tools bound to ``agent``."""
        return [tool for tool in self.tools if agent in tool.agents]

    def ui_tool(self, name: str) -> ToolSpec | None:
        """The UI tool called ``name`` or rendering component ``name``."""
        for tool in self.tools:
            if tool.ui and name in (tool.name, tool.ui.component):
                return tool
        return None
