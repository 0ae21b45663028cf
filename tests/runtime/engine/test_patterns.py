"""Orchestration patterns, LLM handoff conditions and structured outputs under the scripted model."""

import json

from mozaiks_core.runtime.engine import run_workflow
from mozaiks_core.runtime.engine.structured import response_format_for

from .conftest import FIXTURES, load

TWO_AGENTS = "agents:\n- name: Writer\n  system_message: Write.\n- name: Editor\n  system_message: Edit.\n"


def _orchestrator(pattern: str, turns: int) -> str:
    return f"workflow_name: Duo\nmax_turns: {turns}\norchestration_pattern: {pattern}\ninitial_message: Go.\n"


async def test_round_robin_alternates_the_agents(hooks, context, bundle_copy):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": _orchestrator("RoundRobinPattern", 5), "agents.yaml": TWO_AGENTS,
        "scripted_model.yaml": "turns:\n- say: one\n- say: two\n- say: three\n- say: four\n",
    })

    outcome = await run_workflow(bundle, context("Duo"), hooks)

    assert outcome.status == "completed"
    assert [event["agent"] for event in hooks.events("chat.text")] == ["Writer", "Editor", "Writer", "Editor"]


async def test_auto_pattern_selects_speakers_from_the_script_of_the_chat_manager(hooks, context, bundle_copy):
    script = (
        "turns:\n- agent: Writer\n  say: draft\n- agent: chat_manager\n  say: Editor\n"
        "- agent: Editor\n  say: edited\n- agent: chat_manager\n  say: Editor\n- agent: Editor\n  say: again\n"
    )
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": _orchestrator("AutoPattern", 4), "agents.yaml": TWO_AGENTS, "scripted_model.yaml": script,
    })

    outcome = await run_workflow(bundle, context("Duo"), hooks)

    assert outcome.status == "completed"
    assert [event["content"] for event in hooks.events("chat.text")] == ["draft", "edited", "again"]


async def test_a_string_llm_condition_hands_off_when_the_model_calls_its_transfer_function(
    hooks, context, bundle_copy
):
    handoffs = (
        "handoff_rules:\n- source_agent: Writer\n  target_agent: Editor\n  handoff_type: condition\n"
        "  condition_type: string_llm\n  condition: When the draft is ready for editing.\n"
        "- source_agent: Editor\n  target_agent: terminate\n  handoff_type: after_work\n"
    )
    script = (
        "turns:\n- agent: Writer\n  tool_call: {name: transfer_to_Editor_1, arguments: {}}\n"
        "- agent: Editor\n  say: polished\n"
    )
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": _orchestrator("DefaultPattern", 6), "agents.yaml": TWO_AGENTS,
        "handoffs.yaml": handoffs, "scripted_model.yaml": script,
    })

    outcome = await run_workflow(bundle, context("Duo"), hooks)

    assert outcome.status == "completed"
    assert [event["agent"] for event in hooks.events("chat.select_speaker")] == ["Writer", "Editor"]
    assert hooks.events("chat.text")[-1]["content"] == "polished"


async def test_a_structured_output_agent_gets_a_response_format_and_its_json_is_parsed(hooks, context):
    bundle = load(FIXTURES / "engine" / "Structured")

    rating = response_format_for(bundle, "Rater")
    schema = rating.model_json_schema()
    assert set(schema["properties"]) == {"score", "verdict", "reasons", "note"}
    assert set(schema["required"]) == {"score", "verdict", "reasons"}
    outcome = await run_workflow(bundle, context("Structured"), hooks)

    assert outcome.status == "completed"
    [text] = hooks.events("chat.text")
    assert text["structured_output"] == {"score": 4, "verdict": "go", "reasons": ["clear market"], "note": None}
    assert text["structured_schema"] == "Rating"
    rating.model_validate(json.loads(text["content"]))
