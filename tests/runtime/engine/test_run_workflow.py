"""run_workflow with the scripted model and in-memory hooks: what a chat would see, event by event."""

import asyncio

import pytest

from mozaiks_core.runtime.engine import run_workflow
from mozaiks_core.runtime.engine.hooks import BudgetExceeded, RunCancelled

from .conftest import DEMO, FIXTURES, answer_with, load, wait_for

BRIEF = {"product_name": "Lumen", "audience": "indie developers", "launch_date": "2026-12-01", "budget": 6000}


async def test_the_demo_workflow_runs_to_completion_with_the_scripted_model(hooks, context):
    hooks.ui_answer = answer_with(BRIEF)
    hooks.inputs = ["Looks good, finalize it."]

    outcome = await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    assert (outcome.status, outcome.error_code) == ("completed", "")
    texts = [(event["agent"], event["role"]) for event in hooks.events("chat.text")]
    assert texts == [
        ("IntakeAgent", "assistant"),  # initial_message_to_user
        ("IntakeAgent", "assistant"),
        ("StrategistAgent", "assistant"),
        ("user", "user"),
        ("StrategistAgent", "assistant"),
    ]
    [form] = [data for kind, data in hooks.log if kind == "ui_tool"]
    assert form["component_type"] == "LaunchBriefForm"
    assert form["agent"] == "IntakeAgent"  # the ChatUI names the form's bubble after it
    assert [field["name"] for field in form["payload"]["fields"]] == list(BRIEF)
    [budget] = [event for event in hooks.events("chat.tool_response") if event["tool_name"] == "estimate_launch_budget"]
    assert '"split": {"email": 1000.0, "social": 2000.0, "paid_search": 3000.0}' in budget["content"]
    # The user's turn is the input request, never a speaker (the ChatUI would show "user - thinking...").
    assert [event["agent"] for event in hooks.events("chat.select_speaker")] == [
        "IntakeAgent", "StrategistAgent", "StrategistAgent"
    ]
    assert hooks.events("input_request") == [
        {"agent": "StrategistAgent", "prompt": "StrategistAgent is waiting for your reply."}
    ]
    assert outcome.summary == "Your launch plan is final. Good luck with the launch!"


async def test_the_initial_message_seeds_the_run_but_is_never_shown_as_a_user_message(hooks, context):
    hooks.ui_answer = answer_with(BRIEF)
    hooks.inputs = ["ok"]

    outcome = await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    seed = "IntakeAgent, collect the launch brief from the user with the form."
    assert all(event["content"] != seed for event in hooks.events("chat.text"))
    assert outcome.messages[0]["content"] == seed  # but the agents saw it


async def test_every_llm_call_is_announced_then_metered_with_the_scripted_usage(hooks, context):
    hooks.ui_answer = answer_with(BRIEF)
    hooks.inputs = ["ok"]

    await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    calls = [kind for kind in hooks.kinds() if kind in ("before_llm_call", "usage")]
    assert calls == ["before_llm_call", "usage"] * 6
    usage = hooks.events("usage")
    assert usage[0] == {"agent": "IntakeAgent", "model": "mozaiks-scripted", "prompt_tokens": 210,
                        "completion_tokens": 18}
    assert all(record["prompt_tokens"] > 0 and record["completion_tokens"] > 0 for record in usage)


async def test_a_tool_write_to_the_context_decides_the_next_handoff(hooks, context):
    incomplete = {**BRIEF, "budget": ""}  # the form tool refuses it: brief_complete stays False
    hooks.ui_answer = answer_with(incomplete)
    hooks.inputs = ["I will fill it in later."]

    outcome = await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    [response] = hooks.events("chat.tool_response")
    assert "missing: Marketing budget" in response["content"]
    # IntakeAgent's conditional after-work did not fire: the user was asked, not the strategist.
    assert hooks.events("input_request")[0]["agent"] == "IntakeAgent"
    assert "StrategistAgent" not in [event["agent"] for event in hooks.events("chat.select_speaker")][:3]
    assert outcome.status == "failed"  # the demo script has no turn for a second intake attempt
    assert outcome.error_code == "SCRIPT_EXHAUSTED"


async def test_a_ui_tool_blocks_the_run_until_the_user_answers(hooks, context):
    answered = asyncio.Event()

    async def wait_for_user(_):
        await answered.wait()
        return {"acknowledged": True}

    hooks.ui_answer = wait_for_user
    hooks.inputs = ["Ada"]
    task = asyncio.create_task(run_workflow(load(FIXTURES / "HelloWorld"), context("HelloWorld"), hooks))
    await wait_for(lambda: "ui_tool" in hooks.kinds())
    await asyncio.sleep(0.2)
    assert not task.done()
    assert hooks.kinds()[-1] == "ui_tool"  # nothing happened while the card was waiting

    answered.set()
    outcome = await asyncio.wait_for(task, 10)

    assert outcome.status == "completed"
    assert [event["agent"] for event in hooks.events("chat.text")][-1] == "SummaryAgent"  # greeting_complete
    [card] = [data for kind, data in hooks.log if kind == "ui_tool"]
    assert card == {"tool_name": "greet", "component_type": "GreetingCard",
                    "payload": {"message": "Hello, Ada!", "name": "Ada"}, "display": "inline", "timeout": None,
                    "agent": "InterviewAgent"}


async def test_a_ui_tool_timeout_reaches_the_tool_as_uitoolerror_and_the_chat_goes_on(hooks, context):
    from mozaiks_core.runtime.engine.hooks import UIToolTimeout

    async def nobody_answers(_):
        raise UIToolTimeout

    hooks.ui_answer = nobody_answers
    hooks.inputs = ["Ada"]

    async def stop_at_second_input(*, agent, prompt):
        hooks.log.append(("input_request", {"agent": agent}))
        if hooks.inputs:
            return hooks.inputs.pop(0)
        raise RunCancelled("stopped by the test")

    hooks.request_input = stop_at_second_input
    outcome = await run_workflow(load(FIXTURES / "HelloWorld"), context("HelloWorld"), hooks)

    [response] = hooks.events("chat.tool_response")
    assert "nobody answered UI tool 'GreetingCard'" in response["content"]
    assert hooks.events("input_request")[-1]["agent"] == "InterviewAgent"  # greeting_complete stayed False
    assert outcome.status == "cancelled"


async def test_an_exhausted_script_fails_the_run_with_a_clear_error_instead_of_hanging(hooks, context,
                                                                                    bundle_copy):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {"scripted_model.yaml": "turns: []\n"})

    outcome = await asyncio.wait_for(run_workflow(bundle, context("Valid"), hooks), 10)

    assert (outcome.status, outcome.error_code) == ("failed", "SCRIPT_EXHAUSTED")
    assert "no reply left for agent 'Helper'" in outcome.summary


async def test_a_tool_exception_is_reported_to_the_agent_and_the_run_continues(hooks, context):
    ctx = context("ToolFailure")

    outcome = await run_workflow(load(FIXTURES / "engine" / "ToolFailure"), ctx, hooks)

    assert outcome.status == "completed"
    failed, identity = hooks.events("chat.tool_response")
    assert failed["tool_name"] == "check_stock"
    assert failed["success"] is False
    assert "the warehouse is closed" in failed["content"]
    assert identity["tool_name"] == "whoami"
    for key, value in (("chat_id", ctx.chat_id), ("app_id", "mozaiks-demo"), ("workflow_name", "ToolFailure"),
                       ("user_id", "7")):
        assert f'"{key}": "{value}"' in identity["content"]
    assert hooks.events("chat.text")[-1]["content"] == "Sorry, the stock lookup failed."


async def test_an_exhausted_budget_stops_the_run_before_the_next_llm_call(hooks, context):
    def budget(call_number):
        if call_number == 2:
            raise BudgetExceeded("organization 3 used its 1000 tokens")

    hooks.on_before_llm_call = budget
    hooks.ui_answer = answer_with(BRIEF)

    outcome = await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    assert (outcome.status, outcome.error_code) == ("failed", "TOKEN_BUDGET_EXCEEDED")
    assert "1000 tokens" in outcome.summary
    assert len(hooks.events("usage")) == 1  # the refused call never happened
    assert hooks.kinds()[-1] == "before_llm_call"


async def test_a_run_resumes_from_its_messages_and_continues_the_script(hooks, context):
    hooks.ui_answer = answer_with(BRIEF)

    async def leave(*, agent, prompt):
        raise RunCancelled("the user left")

    hooks.request_input = leave
    ctx = context("ProductLaunch")
    first = await run_workflow(load(DEMO), ctx, hooks)
    assert first.status == "cancelled"
    assert first.messages[-1]["name"] == "StrategistAgent"

    resumed_hooks = type(hooks)()
    second = await run_workflow(load(DEMO), ctx, resumed_hooks, resume_messages=first.messages,
                                user_message="Please finalize.")

    assert second.status == "completed"
    assert [(event["agent"], event["content"][:24]) for event in resumed_hooks.events("chat.text")] == [
        ("user", "Please finalize."),
        ("StrategistAgent", "Your launch plan is fina"),
    ]
    assert [event["tool_name"] for event in resumed_hooks.events("chat.tool_call")] == ["finalize_launch_plan"]
    assert len(second.messages) > len(first.messages)


async def test_cancelling_the_run_task_stops_the_run_and_its_tool_thread(hooks, context):
    import threading

    async def never(_):
        await asyncio.Event().wait()

    hooks.ui_answer = never
    hooks.inputs = ["Ada"]
    ctx = context("HelloWorld")
    task = asyncio.create_task(run_workflow(load(FIXTURES / "HelloWorld"), ctx, hooks))
    await wait_for(lambda: "ui_tool" in hooks.kinds())

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    calls = len(hooks.log)
    await wait_for(lambda: not any(thread.name.startswith("mozaiks-run-call-") for thread in threading.enumerate()))
    await asyncio.sleep(0.2)
    assert len(hooks.log) == calls  # the run asked for nothing after its cancellation


async def test_mozaiks_llm_script_replaces_the_bundles_script(hooks, context, settings, tmp_path):
    script = tmp_path / "script.yaml"
    script.write_text("turns:\n- tool_call: {name: whoami, arguments: {}}\n- say: From the operator's script.\n")
    settings.MOZAIKS_LLM_SCRIPT = str(script)

    outcome = await run_workflow(load(FIXTURES / "engine" / "ToolFailure"), context("ToolFailure"), hooks)

    assert outcome.status == "completed"
    assert [event["tool_name"] for event in hooks.events("chat.tool_response")] == ["whoami"]
    assert hooks.events("chat.text")[-1]["content"] == "From the operator's script."


async def test_a_malformed_script_file_fails_the_run_naming_the_turn(hooks, context, settings, tmp_path):
    script = tmp_path / "script.yaml"
    script.write_text("turns:\n- agent: Helper\n")
    settings.MOZAIKS_LLM_SCRIPT = str(script)

    outcome = await run_workflow(load(FIXTURES / "engine" / "ToolFailure"), context("ToolFailure"), hooks)

    assert (outcome.status, outcome.error_code) == ("failed", "SCRIPT_INVALID")
    assert "script.yaml:turns[0]" in outcome.summary


async def test_concurrent_runs_on_one_loop_keep_their_events_and_ui_tools_apart(context):
    from .conftest import FakeHooks

    runs = []
    for index in range(12):
        hooks = FakeHooks()
        hooks.ui_answer = answer_with({**BRIEF, "budget": 600 * (index + 1)})
        hooks.inputs = [f"finalize {index}"]
        runs.append(hooks)
    bundle = load(DEMO)

    outcomes = await asyncio.wait_for(asyncio.gather(
        *(run_workflow(bundle, context("ProductLaunch"), hooks) for hooks in runs)
    ), 30)

    assert {outcome.status for outcome in outcomes} == {"completed"}
    for index, hooks in enumerate(runs):
        [budget] = [e for e in hooks.events("chat.tool_response") if e["tool_name"] == "estimate_launch_budget"]
        assert f'"budget": {600.0 * (index + 1)}' in budget["content"]
        assert [e["content"] for e in hooks.events("chat.text") if e["role"] == "user"] == [f"finalize {index}"]


async def test_a_checkpoint_before_each_wait_is_enough_to_resume_after_a_crash(hooks, context):
    checkpoints = []

    async def checkpoint(*, messages):
        checkpoints.append(messages)

    async def crash(*, agent, prompt):
        raise RunCancelled("the process died while waiting")

    hooks.checkpoint = checkpoint
    hooks.ui_answer = answer_with(BRIEF)
    hooks.request_input = crash
    ctx = context("ProductLaunch")
    await run_workflow(load(DEMO), ctx, hooks)  # its outcome is lost in a crash: only checkpoints remain
    assert len(checkpoints) == 2  # before the brief form, before the sign-off question
    assert checkpoints[-1][-1]["mozaiks_context"]["brief_complete"] is True

    resumed = type(hooks)()
    outcome = await run_workflow(load(DEMO), ctx, resumed, resume_messages=checkpoints[-1], user_message="Go.")

    assert outcome.status == "completed"
    [final] = resumed.events("chat.tool_response")
    assert '"split": {"email": 1000.0, "social": 2000.0, "paid_search": 3000.0}' in final["content"]


async def test_a_long_chat_goes_past_100_agent_replies_when_the_user_speaks_in_between(hooks, context, tmp_path):
    # AG2 counts an agent's replies to the group manager and ends the chat at its
    # max_consecutive_auto_reply (default 100) unless the counter is reset; a user message
    # in between must reset it, or every chat ends "completed" after 100 answers.
    rounds = 103
    folder = tmp_path / "LongChat"
    folder.mkdir()
    (folder / "orchestrator.yaml").write_text(
        "workflow_name: LongChat\nmax_turns: 1000\nhuman_in_the_loop: true\nstartup_mode: UserDriven\n"
        "orchestration_pattern: DefaultPattern\ninitial_agent: EchoAgent\n")
    (folder / "agents.yaml").write_text(
        "agents:\n  - name: EchoAgent\n    prompt_sections:\n      - {id: role, heading: Role, content: Answer.}\n")
    (folder / "handoffs.yaml").write_text(
        "handoff_rules:\n  - {source_agent: EchoAgent, target_agent: user, handoff_type: after_work}\n")
    (folder / "scripted_model.yaml").write_text(
        "turns:\n" + "".join(f"  - {{agent: EchoAgent, say: 'answer {index}'}}\n" for index in range(rounds)))
    hooks.inputs = ["next"] * (rounds - 1)

    async def answer_or_leave(*, agent, prompt):
        hooks.log.append(("input_request", {"agent": agent}))
        if not hooks.inputs:
            raise RunCancelled("the user left")
        return hooks.inputs.pop(0)

    hooks.request_input = answer_or_leave
    outcome = await run_workflow(load(folder), context("LongChat"), hooks, user_message="go")
    replies = [event["content"] for event in hooks.events("chat.text") if event["agent"] == "EchoAgent"]
    assert len(replies) == rounds
    assert replies[-1] == f"answer {rounds - 1}"
    assert outcome.status == "cancelled"  # the user left; the agent never stopped on its own


LIFECYCLE_TOOLS = """tools: []
lifecycle_tools:
  - {trigger: on_start, file: life.py, function: on_start}
  - {trigger: before_chat, file: life.py, function: before_chat}
  - {trigger: before_chat, file: life.py, function: broken, description: a failing tool never stops the run}
  - {trigger: before_agent, agent: EchoAgent, file: life.py, function: before_agent}
  - {trigger: before_agent, agent: OtherAgent, file: life.py, function: never}
  - {trigger: after_agent, file: life.py, function: after_agent}
  - {trigger: after_chat, file: life.py, function: after_chat}
  - {trigger: on_complete, file: life.py, function: on_complete}
  - {trigger: on_fail, file: life.py, function: on_fail}
"""
LIFECYCLE_FUNCTIONS = '''
CALLS = []

def on_start(context_variables):
    CALLS.append(("on_start", context_variables.get("chat_id")))
    context_variables.set("warmed_up", True)

def before_chat():
    CALLS.append(("before_chat", None))

def broken():
    raise RuntimeError("lifecycle boom")

def before_agent(context_variables):
    CALLS.append(("before_agent", context_variables.get("warmed_up")))

def never():
    CALLS.append(("never", None))

def after_agent(**details):
    CALLS.append(("after_agent", "context_variables" in details))

def after_chat():
    CALLS.append(("after_chat", None))

async def on_complete(summary, context_variables):
    CALLS.append(("on_complete", summary))

def on_fail(error_code, error):
    CALLS.append(("on_fail", error_code))
'''


def lifecycle_bundle(tmp_path, answers: int):
    folder = tmp_path / "LifeChat"
    (folder / "tools").mkdir(parents=True)
    (folder / "orchestrator.yaml").write_text(
        "workflow_name: LifeChat\nmax_turns: 4\nstartup_mode: AgentDriven\norchestration_pattern: DefaultPattern\n"
        "initial_agent: EchoAgent\ninitial_message: Start.\n")
    (folder / "agents.yaml").write_text(
        "agents:\n  - name: EchoAgent\n    system_message: Answer.\n  - name: OtherAgent\n    system_message: Idle.\n")
    (folder / "tools.yaml").write_text(LIFECYCLE_TOOLS)
    (folder / "tools" / "life.py").write_text(LIFECYCLE_FUNCTIONS)
    (folder / "scripted_model.yaml").write_text(
        "turns:\n" + "".join(f"  - {{agent: EchoAgent, say: 'answer {index}'}}\n" for index in range(answers)))
    bundle = load(folder)
    return bundle, bundle.lifecycle_tools[0].function.__globals__["CALLS"]


async def test_lifecycle_tools_run_at_their_triggers_in_order_and_a_failing_one_is_only_logged(
    hooks, context, tmp_path, caplog
):
    bundle, calls = lifecycle_bundle(tmp_path, answers=1)
    ctx = context("LifeChat")
    outcome = await run_workflow(bundle, ctx, hooks)
    assert outcome.status == "completed"
    assert calls == [
        ("on_start", ctx.chat_id),
        ("before_chat", None),
        ("before_agent", True),  # a write of on_start is visible to the later tools
        ("after_agent", True),
        ("after_chat", None),
        ("on_complete", outcome.summary),
    ]
    assert "lifecycle boom" in caplog.text


async def test_a_failed_run_gets_after_chat_and_on_fail_with_its_error_code(hooks, context, tmp_path):
    bundle, calls = lifecycle_bundle(tmp_path, answers=0)  # the script is exhausted at the first call
    outcome = await run_workflow(bundle, context("LifeChat"), hooks)
    assert outcome.status == "failed"
    assert [name for name, _ in calls][-2:] == ["after_chat", "on_fail"]
    assert calls[-1] == ("on_fail", outcome.error_code)
    assert "on_complete" not in [name for name, _ in calls]
