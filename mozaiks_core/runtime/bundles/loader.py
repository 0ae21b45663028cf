"""Load one workflow bundle folder into a :class:`WorkflowBundle`, with every problem precise.

Warnings (the bundle still loads) cover defects real MozaiksAI bundles contain; errors make
the bundle unavailable while the other bundles keep working.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mozaiks_core.runtime.bundles.models import (
    LIFECYCLE_TRIGGERS,
    PATTERNS,
    STARTUP_MODES,
    TERMINATE_TARGETS,
    TOOL_TYPES,
    USER_TARGETS,
    AgentSpec,
    ContextVariableSpec,
    HandoffRule,
    HookSpec,
    LifecycleToolSpec,
    Orchestrator,
    PromptSection,
    ToolSpec,
    UIToolSpec,
    WorkflowBundle,
)
from mozaiks_core.runtime.bundles.reader import ProblemCollector
from mozaiks_core.runtime.bundles.structured import read_structured_outputs
from mozaiks_core.runtime.bundles.tool_files import ToolFileLoader
from mozaiks_core.validation import Problem

ORCHESTRATOR_KEYS = {
    "workflow_name", "entry_point", "max_turns", "human_in_the_loop", "startup_mode", "workflow_startup_mode",
    "orchestration_pattern", "initial_message", "initial_message_to_user", "initial_agent", "description",
    "display_name", "model", "llm_config", "triggers", "runtime_extensions", "recipient", "visual_agents", "ui",
}
AGENT_KEYS = {
    "name", "prompt_sections", "system_message", "max_consecutive_auto_reply", "auto_tool_mode",
    "structured_outputs_required", "description", "display_name", "agent_type", "human_input_mode", "model",
}
TOOL_KEYS = {"agent", "file", "function", "description", "tool_type", "auto_invoke", "auto_tool_call", "ui",
             "ui_contract", "name", "trigger"}
LIFECYCLE_KEYS = {"trigger", "agent", "file", "function", "description"}
HANDOFF_KEYS = {"source_agent", "target_agent", "handoff_type", "condition_type", "condition", "condition_scope",
                "transition_target", "description"}
CONTEXT_SOURCE_TYPES = {"config", "data_reference", "data_entity", "computed", "state", "external", "file",
                        "build_context"}
HOOK_TYPES = {"process_message_before_send", "update_agent_state", "process_last_received_message",
              "process_all_messages_before_reply"}


def load_bundle(bundle_dir: Path) -> tuple[WorkflowBundle | None, list[Problem]]:
    """Load the bundle in ``bundle_dir``: the bundle (``None`` on errors) and all its problems."""
    problems = ProblemCollector(bundle_dir)
    raw = problems.mapping("orchestrator.yaml", problems.read("orchestrator.yaml", required=True))
    # the nested layout (workflows/<name>/backend/) is named after <name>, not "backend"
    default_name = bundle_dir.parent.name if bundle_dir.name == "backend" else bundle_dir.name
    orchestrator = _orchestrator(problems, raw, default_name)
    agents = _agents(problems, orchestrator)
    tools_loader = ToolFileLoader(orchestrator.workflow_name, bundle_dir, problems)
    tools_yaml = problems.mapping("tools.yaml", problems.read("tools.yaml"))  # read once: tools and lifecycle
    tools = _tools(problems, tools_loader, agents, tools_yaml)
    lifecycle = _lifecycle_tools(problems, tools_loader, agents, tools_yaml)
    handoffs = _handoffs(problems, agents)
    context = _context_variables(problems)
    models, registry = read_structured_outputs(problems, agents)
    hooks = _hooks(problems, tools_loader, agents)
    _check_auto_tool_mode(problems, agents, tools, registry)
    ui_config = problems.mapping("ui_config.yaml", problems.read("ui_config.yaml"))
    visual = ui_config.get("visual_agents")
    script = problems.read("scripted_model.yaml")
    if script is not None:
        from mozaiks_core.runtime.bundles.scripts import validate_script

        validate_script(problems, "scripted_model.yaml", script)
    if problems.has_errors:
        return None, problems.problems
    bundle = WorkflowBundle(
        name=orchestrator.workflow_name,
        path=bundle_dir,
        orchestrator=orchestrator,
        agents=agents,
        tools=tuple(tools),
        lifecycle_tools=tuple(lifecycle),
        handoffs=tuple(handoffs),
        context_variables=tuple(context),
        structured_models=models,
        structured_registry=registry,
        hooks=tuple(hooks),
        visual_agents=tuple(str(name) for name in visual) if isinstance(visual, list) else None,
        script=script if isinstance(script, dict) else None,
    )
    return bundle, problems.problems


def _orchestrator(problems: ProblemCollector, raw: dict[str, Any], folder: str) -> Orchestrator:
    file = "orchestrator.yaml"
    problems.unknown_keys(file, raw, ORCHESTRATOR_KEYS)
    name = problems.text(file, raw, "workflow_name", "") or folder
    pattern = problems.text(file, raw, "orchestration_pattern", "") or "DefaultPattern"
    if pattern not in PATTERNS:
        problems.error(
            "orchestrator.unknown_pattern", file, "orchestration_pattern",
            f"unknown orchestration pattern {pattern!r}.", f"Use one of: {', '.join(PATTERNS)}.",
        )
    startup_key = "startup_mode" if "startup_mode" in raw else "workflow_startup_mode"
    startup = problems.text(file, raw, startup_key, "") or "AgentDriven"
    if startup not in STARTUP_MODES:
        problems.error(
            "orchestrator.unknown_startup_mode", file, startup_key,
            f"unknown startup_mode {startup!r}.", f"Use one of: {', '.join(STARTUP_MODES)}.",
        )
    llm_config = problems.mapping(file, raw.get("llm_config"), "llm_config")
    return Orchestrator(
        workflow_name=name,
        max_turns=problems.integer(file, raw, "max_turns", "", 20) or 20,
        human_in_the_loop=problems.boolean(file, raw, "human_in_the_loop", "", False),
        startup_mode=startup,
        orchestration_pattern=pattern,
        initial_message=problems.text(file, raw, "initial_message", "") or None,
        initial_message_to_user=problems.text(file, raw, "initial_message_to_user", "") or None,
        initial_agent=problems.text(file, raw, "initial_agent", "") or None,
        entry_point=problems.boolean(file, raw, "entry_point", "", False),
        description=problems.text(file, raw, "description", ""),
        display_name=problems.text(file, raw, "display_name", ""),
        model=problems.text(file, raw, "model", "") or llm_config.get("model") or None,
        llm_config=llm_config,
    )


def _agents(problems: ProblemCollector, orchestrator: Orchestrator) -> dict[str, AgentSpec]:
    file = "agents.yaml"
    raw = problems.read(file, required=True)
    data = problems.mapping(file, raw)
    entries = data.get("agents")
    if isinstance(entries, dict):  # the older ``agents: {Name: {...}}`` shape
        # A non-mapping spec stays as it is, so the loop below reports it instead of crashing here.
        entries = [{"name": name, **(spec or {})} if spec is None or isinstance(spec, dict) else spec
                   for name, spec in entries.items()]
    agents: dict[str, AgentSpec] = {}
    for index, entry in enumerate(problems.sequence(file, entries, "agents")):
        where = f"agents[{index}]"
        entry = problems.mapping(file, entry, where)
        problems.unknown_keys(file, entry, AGENT_KEYS, where)
        name = problems.text(file, entry, "name", where, required=True)
        if not name:
            continue
        if not name.isidentifier():
            problems.error("agents.bad_name", file, f"{where}.name", f"agent name {name!r} is not an identifier.",
                           "Use letters, digits and underscores only, e.g. InterviewAgent.")
        if name in agents:
            problems.error("agents.duplicate", file, f"{where}.name", f"agent {name!r} is declared twice.",
                           "Rename or remove one of them.")
        sections = _prompt_sections(problems, entry, where)
        system = "\n\n".join(section.render() for section in sections)
        system = system or problems.text(file, entry, "system_message", where)
        agents[name] = AgentSpec(
            name=name,
            system_message=system,
            prompt_sections=tuple(sections),
            max_consecutive_auto_reply=problems.integer(file, entry, "max_consecutive_auto_reply", where, None),
            auto_tool_mode=problems.boolean(file, entry, "auto_tool_mode", where, False),
            structured_outputs_required=problems.boolean(file, entry, "structured_outputs_required", where, False),
            description=problems.text(file, entry, "description", where),
        )
    if raw is not None and not agents and not problems.has_errors:
        problems.error("agents.none", file, "agents", "the workflow declares no agents.",
                       "Add at least one agent with a name and prompt_sections or system_message.")
    if orchestrator.initial_agent and agents and orchestrator.initial_agent not in agents:
        problems.error("orchestrator.unknown_initial_agent", "orchestrator.yaml", "initial_agent",
                       f"initial_agent {orchestrator.initial_agent!r} is not declared in agents.yaml.",
                       f"Use one of: {', '.join(agents)}.")
    return agents


def _prompt_sections(problems: ProblemCollector, entry: dict[str, Any], where: str) -> list[PromptSection]:
    sections = []
    for index, raw in enumerate(problems.sequence("agents.yaml", entry.get("prompt_sections"),
                                                  f"{where}.prompt_sections")):
        path = f"{where}.prompt_sections[{index}]"
        raw = problems.mapping("agents.yaml", raw, path)
        content = problems.text("agents.yaml", raw, "content", path)
        if content:
            sections.append(PromptSection(
                id=problems.text("agents.yaml", raw, "id", path) or f"section_{index}",
                heading=problems.text("agents.yaml", raw, "heading", path),
                content=content,
            ))
    return sections


def _tools(problems: ProblemCollector, loader: ToolFileLoader, agents: dict[str, AgentSpec],
           data: dict[str, Any]) -> list[ToolSpec]:
    file = "tools.yaml"
    problems.unknown_keys(file, data, {"tools", "lifecycle_tools"})
    tools: list[ToolSpec] = []
    for index, entry in enumerate(problems.sequence(file, data.get("tools"), "tools")):
        where = f"tools[{index}]"
        entry = problems.mapping(file, entry, where)
        problems.unknown_keys(file, entry, TOOL_KEYS, where)
        agent_value = entry.get("agent")
        names = [agent_value] if isinstance(agent_value, str) else agent_value if isinstance(agent_value, list) else []
        if not names:
            problems.error("tool.no_agent", file, f"{where}.agent", "agent is required.",
                           "Name the agent that may call this tool.")
        bound = []
        for name in names:
            if name in agents:
                bound.append(name)
            else:
                problems.warn(
                    "tool.unknown_agent", file, f"{where}.agent",
                    f"tool is bound to agent {name!r}, which agents.yaml does not declare; no agent can call it.",
                    f"Bind it to one of: {', '.join(agents) or '(no agents)'}.",
                )
        function_name = problems.text(file, entry, "function", where, required=True)
        tool_file = problems.text(file, entry, "file", where, required=True)
        tool_type = problems.text(file, entry, "tool_type", where) or "Agent_Tool"
        if tool_type not in TOOL_TYPES:
            problems.error("tool.unknown_type", file, f"{where}.tool_type", f"unknown tool_type {tool_type!r}.",
                           f"Use one of: {', '.join(TOOL_TYPES)}.")
        ui = _ui_spec(problems, entry, where, tool_type)
        function = loader.function(file, where, tool_file, function_name) if tool_file and function_name else None
        if function is not None:
            tools.append(ToolSpec(
                name=problems.text(file, entry, "name", where) or function_name,
                agents=tuple(bound), file=tool_file, function=function,
                description=problems.text(file, entry, "description", where) or (function.__doc__ or "").strip(),
                tool_type=tool_type, ui=ui,
                auto_invoke=_declared_flag(entry.get("auto_invoke", entry.get("auto_tool_call"))),
            ))
    return tools


def _declared_flag(value: Any) -> bool | None:
    """``auto_invoke`` as declared: ``None`` when absent (its default depends on the tool type)."""
    return None if value is None else bool(value)


def _check_auto_tool_mode(problems: ProblemCollector, agents: dict[str, AgentSpec], tools: list[ToolSpec],
                          registry: dict[str, str]) -> None:
    """``auto_tool_mode`` needs the agent's structured output model and a tool to run from it."""
    for index, agent in enumerate(agents.values()):
        if not agent.auto_tool_mode:
            continue
        where = f"agents[{index}].auto_tool_mode"
        if agent.name not in registry:
            problems.warn("agents.auto_tool_mode_without_model", "agents.yaml", where,
                          f"agent {agent.name!r} has auto_tool_mode but no structured output model, so nothing "
                          "is invoked automatically and its tools are offered to the model as usual.",
                          f"Map {agent.name} to a model in structured_outputs.yaml registry, or remove "
                          "auto_tool_mode.")
        elif not any(agent.name in tool.agents and tool.invoked_automatically for tool in tools):
            problems.warn("agents.auto_tool_mode_without_tool", "agents.yaml", where,
                          f"agent {agent.name!r} has auto_tool_mode but no tool of it is auto-invoked, so its "
                          "structured outputs invoke nothing.",
                          f"Bind a UI_Tool to {agent.name} in tools.yaml, or set auto_invoke: true on one of "
                          "its tools.")


def _lifecycle_tools(problems: ProblemCollector, loader: ToolFileLoader,
                     agents: dict[str, AgentSpec], data: dict[str, Any]) -> list[LifecycleToolSpec]:
    """``tools.yaml`` ``lifecycle_tools``: an unknown trigger or agent is a warning (the entry is
    skipped or never fires, as in MozaiksAI); a missing file or function is an error."""
    file = "tools.yaml"
    specs: list[LifecycleToolSpec] = []
    for index, entry in enumerate(problems.sequence(file, data.get("lifecycle_tools"), "lifecycle_tools")):
        where = f"lifecycle_tools[{index}]"
        entry = problems.mapping(file, entry, where)
        problems.unknown_keys(file, entry, LIFECYCLE_KEYS, where)
        trigger = problems.text(file, entry, "trigger", where, required=True)
        function_name = problems.text(file, entry, "function", where, required=True)
        tool_file = problems.text(file, entry, "file", where, required=True)
        agent = problems.text(file, entry, "agent", where) or None
        if trigger and trigger not in LIFECYCLE_TRIGGERS:
            problems.warn("tool.lifecycle_trigger", file, f"{where}.trigger",
                          f"unknown lifecycle trigger {trigger!r}; this entry never runs.",
                          f"Use one of: {', '.join(LIFECYCLE_TRIGGERS)}.")
            continue
        if agent is not None and agent not in agents:
            problems.warn("tool.unknown_agent", file, f"{where}.agent",
                          f"lifecycle tool names agent {agent!r}, which agents.yaml does not declare; it never runs.",
                          f"Name one of: {', '.join(agents) or '(no agents)'}, or leave agent out for every agent.")
        function = loader.function(file, where, tool_file, function_name) if tool_file and function_name else None
        if trigger and function is not None:
            specs.append(LifecycleToolSpec(trigger=trigger, agent=agent, file=tool_file, function=function,
                                           description=problems.text(file, entry, "description", where)))
    return specs


def _ui_spec(problems: ProblemCollector, entry: dict[str, Any], where: str, tool_type: str) -> UIToolSpec | None:
    ui = problems.mapping("tools.yaml", entry.get("ui"), f"{where}.ui")
    component = problems.text("tools.yaml", ui, "component", f"{where}.ui")
    if tool_type == "UI_Tool" and not component:
        problems.warn("tool.ui_component_missing", "tools.yaml", f"{where}.ui.component",
                      "UI_Tool declares no ui.component; the tool id passed to use_ui_tool is used instead.",
                      "Add ui: {component: YourComponent, mode: inline}.")
    mode = problems.text("tools.yaml", ui, "mode", f"{where}.ui") or "inline"
    if mode not in ("inline", "artifact"):
        problems.warn("tool.ui_mode", "tools.yaml", f"{where}.ui.mode", f"unknown ui.mode {mode!r}; using inline.",
                      "Use inline or artifact.")
        mode = "inline"
    return UIToolSpec(component=component, mode=mode) if component else None


def _handoffs(problems: ProblemCollector, agents: dict[str, AgentSpec]) -> list[HandoffRule]:
    file = "handoffs.yaml"
    data = problems.mapping(file, problems.read(file))
    rules = []
    known = set(agents) | set(USER_TARGETS)
    for index, entry in enumerate(problems.sequence(file, data.get("handoff_rules"), "handoff_rules")):
        where = f"handoff_rules[{index}]"
        entry = problems.mapping(file, entry, where)
        problems.unknown_keys(file, entry, HANDOFF_KEYS, where)
        source = problems.text(file, entry, "source_agent", where, required=True)
        target = problems.text(file, entry, "target_agent", where, required=True)
        if source and source not in known:
            problems.error("handoff.unknown_source", file, f"{where}.source_agent",
                           f"source_agent {source!r} is not an agent of this workflow.",
                           f"Use user or one of: {', '.join(agents)}.")
        if target and target not in known and target not in TERMINATE_TARGETS:
            problems.error("handoff.unknown_target", file, f"{where}.target_agent",
                           f"handoff to unknown agent {target!r}.",
                           f"Use user, terminate or one of: {', '.join(agents)}.")
        handoff_type = problems.text(file, entry, "handoff_type", where) or "after_work"
        condition_type = problems.text(file, entry, "condition_type", where) or None
        condition = problems.text(file, entry, "condition", where) or None
        if handoff_type not in ("after_work", "condition"):
            problems.error("handoff.unknown_type", file, f"{where}.handoff_type",
                           f"unknown handoff_type {handoff_type!r}.", "Use after_work or condition.")
        if condition_type not in (None, "expression", "string_llm"):
            problems.error("handoff.unknown_condition_type", file, f"{where}.condition_type",
                           f"unknown condition_type {condition_type!r}.", "Use expression, string_llm or null.")
        if handoff_type == "condition" and not condition:
            problems.error("handoff.condition_missing", file, f"{where}.condition",
                           "a condition handoff needs a condition.",
                           "Write e.g. condition: ${done} == True, or use handoff_type: after_work.")
        if condition and condition_type is None:
            condition_type = "expression" if "${" in condition else "string_llm"
        rules.append(HandoffRule(source, target, handoff_type, condition_type, condition))
    return rules


def _context_variables(problems: ProblemCollector) -> list[ContextVariableSpec]:
    file = "context_variables.yaml"
    data = problems.mapping(file, problems.read(file))
    specs = []
    for index, entry in enumerate(problems.sequence(file, data.get("definitions"), "definitions")):
        where = f"definitions[{index}]"
        entry = problems.mapping(file, entry, where)
        name = problems.text(file, entry, "name", where, required=True)
        source = problems.mapping(file, entry.get("source"), f"{where}.source")
        source_type = problems.text(file, source, "type", f"{where}.source") or "state"
        if source_type not in CONTEXT_SOURCE_TYPES:
            problems.warn("context.unknown_source_type", file, f"{where}.source.type",
                          f"unknown source type {source_type!r}; the variable is seeded with its default.",
                          f"Use one of: {', '.join(sorted(CONTEXT_SOURCE_TYPES))}.")
        env_var = source.get("env_var") if isinstance(source.get("env_var"), str) else None
        default = source.get("default", entry.get("default"))
        if source_type == "config" and env_var and env_var in os.environ:
            default = os.environ[env_var]
        if name:
            specs.append(ContextVariableSpec(
                name=name, type=str(entry.get("type") or "string"),
                description=problems.text(file, entry, "description", where),
                source_type=source_type, default=default, env_var=env_var,
            ))
    return specs


def _hooks(problems: ProblemCollector, loader: ToolFileLoader, agents: dict[str, AgentSpec]) -> list[HookSpec]:
    yaml_present = (loader.bundle_dir / "hooks.yaml").is_file()
    json_present = (loader.bundle_dir / "hooks.json").is_file()
    if yaml_present and json_present:
        problems.warn("hooks.duplicate_file", "hooks.yaml", "",
                      "hooks.yaml and hooks.json both exist; hooks.yaml is used and hooks.json ignored.",
                      "Delete one of the two files.")
    file = "hooks.yaml" if yaml_present else "hooks.json"
    data = problems.mapping(file, problems.read(file))
    hooks = []
    for index, entry in enumerate(problems.sequence(file, data.get("hooks"), "hooks")):
        where = f"hooks[{index}]"
        entry = problems.mapping(file, entry, where)
        hook_type = problems.text(file, entry, "hook_type", where, required=True)
        agent = problems.text(file, entry, "hook_agent", where, required=True)
        if hook_type and hook_type not in HOOK_TYPES:
            problems.error("hooks.unknown_type", file, f"{where}.hook_type", f"unknown hook_type {hook_type!r}.",
                           f"Use one of: {', '.join(sorted(HOOK_TYPES))}.")
        if agent and agent != "all" and agent not in agents:
            problems.warn("hooks.unknown_agent", file, f"{where}.hook_agent",
                          f"hook_agent {agent!r} is not declared; the hook is not attached.",
                          f"Use all or one of: {', '.join(agents)}.")
        filename = problems.text(file, entry, "filename", where, required=True)
        function_name = problems.text(file, entry, "function", where, required=True)
        function = loader.function(file, where, filename, function_name) if filename and function_name else None
        if function is not None and hook_type in HOOK_TYPES:
            hooks.append(HookSpec(hook_type=hook_type, agent=agent, function=function))
    return hooks
