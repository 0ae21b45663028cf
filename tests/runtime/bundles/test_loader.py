"""The bundle loader: typed models from the YAML files, precise warnings and errors."""

from pathlib import Path

import pytest

from mozaiks_core.runtime.bundles.loader import load_bundle
from mozaiks_core.runtime.bundles.registry import load_registry
from mozaiks_core.validation import ERROR, WARNING


def _codes(problems):
    return {(problem.code, Path(problem.file).name, problem.path) for problem in problems}


def test_a_helloworld_style_bundle_loads_into_typed_models(fixtures):
    bundle, problems = load_bundle(fixtures / "HelloWorld")

    assert problems == []
    assert bundle.name == "HelloWorld"
    assert bundle.orchestrator.startup_mode == "AgentDriven"
    assert bundle.orchestrator.initial_agent == "InterviewAgent"
    assert bundle.entry_agent == "InterviewAgent"
    assert list(bundle.agents) == ["InterviewAgent", "SummaryAgent"]
    greet = bundle.tools[0]
    assert (greet.name, greet.tool_type, greet.agents, greet.ui.component) == (
        "greet", "UI_Tool", ("InterviewAgent",), "GreetingCard"
    )
    assert callable(greet.function)
    assert bundle.handoffs[0].condition == "${greeting_complete} == False"
    assert bundle.handoffs[0].condition_type == "expression"
    assert {spec.name: spec.default for spec in bundle.context_variables} == {
        "user_name": None, "greeting_complete": False
    }
    assert bundle.visual_agents == ("InterviewAgent", "SummaryAgent", "user")
    assert bundle.script["turns"][0]["say"] == "Hello! What's your name?"


def test_the_system_prompt_is_the_sections_as_heading_and_content_joined_by_blank_lines(fixtures):
    bundle, _ = load_bundle(fixtures / "HelloWorld")

    assert bundle.agents["InterviewAgent"].system_message == (
        "[ROLE]\nYou are a friendly greeter.\n\n"
        "[INSTRUCTIONS]\n1. Ask for the user's name.\n2. Call the greet tool with it."
    )
    assert bundle.agents["SummaryAgent"].system_message == "Summarize the greeting in one sentence."


def test_real_bundle_defects_are_warnings_naming_file_and_key_and_the_bundle_still_loads(fixtures):
    bundle, problems = load_bundle(fixtures / "warnings" / "Defects")

    assert bundle is not None
    assert {problem.level for problem in problems} == {WARNING}
    assert _codes(problems) == {
        ("tool.unknown_agent", "tools.yaml", "tools[0].agent"),
        ("context.unknown_source_type", "context_variables.yaml", "definitions[0].source.type"),
        ("structured.top_level_registry", "structured_outputs.yaml", "registry"),
        ("hooks.duplicate_file", "hooks.yaml", ""),
        ("bundle.unknown_key", "orchestrator.yaml", "retries"),
        ("bundle.unknown_key", "agents.yaml", "agents[0].temperament"),
    }
    unknown_agent = next(problem for problem in problems if problem.code == "tool.unknown_agent")
    assert "GreeterAgent" in unknown_agent.message
    assert "InterviewAgent" in unknown_agent.hint
    assert bundle.tools[0].agents == ()  # bound to nobody, so no agent gets it
    assert bundle.structured_registry == {"InterviewAgent": "Greeting"}  # the top-level registry still counts
    assert bundle.context_variables[0].default is False


@pytest.mark.parametrize(
    ("bundle_name", "code", "file", "path", "words"),
    [
        ("YamlSyntax", "bundle.yaml_syntax", "agents.yaml", "line 5, column 1", "line 3, column 19"),
        ("NoAgents", "agents.none", "agents.yaml", "agents", "no agents"),
        ("UnknownPattern", "orchestrator.unknown_pattern", "orchestrator.yaml", "orchestration_pattern",
         "SwarmPattern"),
        ("UnknownStartupMode", "orchestrator.unknown_startup_mode", "orchestrator.yaml", "startup_mode",
         "WheneverDriven"),
        ("MissingToolFile", "tool.file_missing", "tools.yaml", "tools[0]", "lookup.py"),
        ("MissingToolFunction", "tool.function_missing", "tools.yaml", "tools[0].function", "'lookup'"),
        ("UnknownHandoffTarget", "handoff.unknown_target", "handoffs.yaml", "handoff_rules[0].target_agent",
         "Reviewer"),
    ],
)
def test_each_kind_of_error_makes_only_its_bundle_unavailable_with_file_and_key(
    fixtures, bundle_name, code, file, path, words
):
    registry = load_registry((fixtures / "errors",))

    assert bundle_name not in registry.bundles
    [problem] = registry.errors[bundle_name]
    assert (problem.level, problem.code, Path(problem.file).name, problem.path) == (ERROR, code, file, path)
    assert bundle_name in problem.file
    assert words in problem.message
    assert problem.hint
    assert "Valid" in registry.bundles  # the good bundle of the same root keeps working


def test_the_missing_function_error_lists_the_functions_the_file_has(fixtures):
    _, problems = load_bundle(fixtures / "errors" / "MissingToolFunction")

    assert "search" in problems[0].hint


def test_lifecycle_tools_load_and_bad_entries_are_reported_precisely(tmp_path, fixtures):
    bundle_dir = tmp_path / "Lifecycle"
    (bundle_dir / "tools").mkdir(parents=True)
    for name in ("orchestrator.yaml", "agents.yaml"):
        (bundle_dir / name).write_text((fixtures / "errors" / "Valid" / name).read_text())
    (bundle_dir / "tools" / "life.py").write_text("def hello(context_variables):\n    return None\n")
    (bundle_dir / "tools.yaml").write_text(
        "tools: []\nlifecycle_tools:\n"
        "- {trigger: before_chat, file: life.py, function: hello}\n"
        "- {trigger: when_it_rains, file: life.py, function: hello}\n"
        "- {trigger: after_agent, agent: Nobody, file: life.py, function: hello}\n")

    bundle, problems = load_bundle(bundle_dir)

    assert bundle is not None
    assert [(spec.trigger, spec.agent) for spec in bundle.lifecycle_tools] == [("before_chat", None),
                                                                                ("after_agent", "Nobody")]
    assert _codes(problems) == {("tool.lifecycle_trigger", "tools.yaml", "lifecycle_tools[1].trigger"),
                                ("tool.unknown_agent", "tools.yaml", "lifecycle_tools[2].agent")}
    assert all(problem.level == "warning" for problem in problems)

    (bundle_dir / "tools.yaml").write_text(
        "tools: []\nlifecycle_tools:\n- {trigger: on_start, file: missing.py, function: hello}\n"
        "- {trigger: on_start, file: life.py, function: nope}\n")
    bundle, problems = load_bundle(bundle_dir)
    assert bundle is None  # a missing file or function is an error, as for tools
    assert {(problem.code, problem.path) for problem in problems} >= {
        ("tool.file_missing", "lifecycle_tools[0]"), ("tool.function_missing", "lifecycle_tools[1].function")}


def test_a_broken_script_is_an_error_naming_the_turn(tmp_path, fixtures):
    bundle_dir = tmp_path / "Scripted"
    bundle_dir.mkdir()
    for name in ("orchestrator.yaml", "agents.yaml"):
        (bundle_dir / name).write_text((fixtures / "errors" / "Valid" / name).read_text())
    (bundle_dir / "scripted_model.yaml").write_text("turns:\n- say: hi\n- agent: Helper\n  usage: {prompt_tokens: 1}\n")

    bundle, problems = load_bundle(bundle_dir)

    assert bundle is None
    assert _codes(problems) == {("script.bad_turn", "scripted_model.yaml", "turns[1]")}


def test_a_config_context_variable_reads_its_environment_variable(tmp_path, fixtures, monkeypatch):
    bundle_dir = tmp_path / "Configured"
    bundle_dir.mkdir()
    for name in ("orchestrator.yaml", "agents.yaml"):
        (bundle_dir / name).write_text((fixtures / "errors" / "Valid" / name).read_text())
    (bundle_dir / "context_variables.yaml").write_text(
        "definitions:\n- name: region\n  source: {type: config, env_var: SHOP_REGION, default: eu}\n"
        "- name: tier\n  source: {type: config, env_var: SHOP_TIER, default: free}\n"
    )
    monkeypatch.setenv("SHOP_REGION", "us")
    monkeypatch.delenv("SHOP_TIER", raising=False)

    bundle, problems = load_bundle(bundle_dir)

    assert problems == []
    assert {spec.name: spec.default for spec in bundle.context_variables} == {"region": "us", "tier": "free"}
