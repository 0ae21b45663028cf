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


async def test_random_pattern_runs_its_turns_with_the_declared_agents(hooks, context, bundle_copy):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": _orchestrator("RandomPattern", 4), "agents.yaml": TWO_AGENTS,
        "scripted_model.yaml": "turns:\n- say: a\n- say: b\n- say: c\n",
    })

    outcome = await run_workflow(bundle, context("Duo"), hooks)

    assert outcome.status == "completed"
    assert [event["content"] for event in hooks.events("chat.text")] == ["a", "b", "c"]
    assert {event["agent"] for event in hooks.events("chat.text")} <= {"Writer", "Editor"}


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
    metered = [event["agent"] for event in hooks.events("usage")]
    assert metered == ["Writer", "chat_manager", "Editor", "chat_manager", "Editor"]  # selections cost tokens too
    assert len(hooks.events("before_llm_call")) == len(metered)


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
    assert hooks.events("chat.tool_call") == hooks.events("chat.tool_response") == []  # a handoff, not a tool


async def test_a_user_driven_start_answers_the_users_first_message_with_the_initial_agent(
    hooks, context, bundle_copy
):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Duo\nstartup_mode: UserDriven\nmax_turns: 3\n"
                             "initial_message: Answer the user.\ninitial_agent: Editor\n",
        "agents.yaml": TWO_AGENTS,
        "scripted_model.yaml": "turns:\n- agent: Editor\n  say: Happy to help.\n",
    })

    outcome = await run_workflow(bundle, context("Duo"), hooks, user_message="Can you edit my essay?")

    assert outcome.status == "completed", outcome.summary
    assert [(event["agent"], event["content"]) for event in hooks.events("chat.text")] == [
        ("user", "Can you edit my essay?"), ("Editor", "Happy to help."),
    ]


async def test_a_chat_without_a_user_agent_resumes_with_the_users_next_message(hooks, context, bundle_copy):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Valid\nstartup_mode: UserDriven\nmax_turns: 3\n",
        "scripted_model.yaml": "turns:\n- say: First answer.\n- say: Second answer.\n",
    })
    ctx = context("Valid")
    first = await run_workflow(bundle, ctx, hooks, user_message="First question?")

    again = type(hooks)()
    second = await run_workflow(bundle, ctx, again, resume_messages=first.messages, user_message="Second?")

    assert (first.status, second.status) == ("completed", "completed")
    assert [(event["agent"], event["content"]) for event in again.events("chat.text")] == [
        ("user", "Second?"), ("Helper", "Second answer."),
    ]


async def test_a_hooks_yaml_hook_runs_on_its_agent(hooks, context, bundle_copy):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "hooks.yaml": "hooks:\n- hook_type: process_message_before_send\n  hook_agent: Helper\n"
                      "  filename: shout.py\n  function: shout\n",
        "tools/shout.py": "def shout(sender, message, recipient, silent):\n"
                          "    return message.upper() if isinstance(message, str) else message\n",
    })

    outcome = await run_workflow(bundle, context("Valid"), hooks)

    assert outcome.status == "completed"
    assert hooks.events("chat.text")[-1]["content"] == "HELLO."


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
