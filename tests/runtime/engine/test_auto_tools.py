"""``auto_tool_mode``: a structured output runs the agent's auto-invoked tool, as in MozaiksAI."""

from __future__ import annotations

from pathlib import Path

from mozaiks_core.runtime.bundles.loader import load_bundle
from mozaiks_core.runtime.engine import run_workflow
from mozaiks_core.runtime.engine.runner import CONTEXT_KEY

from .conftest import answer_with, load

AGENTS = """agents:
  - name: Planner
    system_message: Plan the launch.
    auto_tool_mode: true
  - name: Closer
    system_message: Close.
"""
TOOLS = """tools:
  - {agent: Planner, file: plan.py, function: show_plan, tool_type: UI_Tool, ui: {component: PlanCard, mode: inline}}
"""
STRUCTURED = """structured_outputs:
  models:
    LaunchPlan:
      type: model
      fields:
        Title: {type: str}
        phase_steps: {type: list, items: str}
        agent_message: {type: str}
  registry:
    Planner: LaunchPlan
"""
HANDOFFS = """handoff_rules:
  - {source_agent: Planner, target_agent: Closer, handoff_type: after_work, condition_type: expression,
     condition: "${plan_approved} == True"}
  - {source_agent: Planner, target_agent: terminate, handoff_type: after_work}
  - {source_agent: Closer, target_agent: terminate, handoff_type: after_work}
"""
TOOL_CODE = '''
from mozaiksai.core.workflow.outputs.ui_tools import use_ui_tool

CALLS = []

async def show_plan(title, phase_steps, chat_id, agent_name, context_variables, unused="default"):
    CALLS.append({"title": title, "phase_steps": phase_steps, "chat_id": chat_id, "agent_name": agent_name,
                  "unused": unused})
    answer = await use_ui_tool("PlanCard", {"title": title, "steps": phase_steps}, chat_id=chat_id,
                               workflow_name="AutoPlan")
    context_variables.set("plan_approved", bool(answer.get("approved")))
    return {"status": "ok", "message": "The plan was shown."}
'''
PLAN = '{"Title": "Launch", "phase_steps": ["announce", "ship"], "agent_message": "Here is the plan."}'


def auto_bundle(tmp_path: Path, planner_says: str, closer_turns: int = 1, tools: str = TOOLS, code: str = TOOL_CODE):
    folder = tmp_path / "AutoPlan"
    (folder / "tools").mkdir(parents=True)
    files = {
        "orchestrator.yaml": "workflow_name: AutoPlan\nmax_turns: 6\nstartup_mode: AgentDriven\n"
                             "orchestration_pattern: DefaultPattern\ninitial_agent: Planner\ninitial_message: Plan.\n",
        "agents.yaml": AGENTS, "tools.yaml": tools, "structured_outputs.yaml": STRUCTURED, "handoffs.yaml": HANDOFFS,
        "context_variables.yaml": "definitions:\n  - {name: plan_approved, type: boolean, source: {type: state, "
                                  "default: false}}\n",
        "tools/plan.py": code,
        "scripted_model.yaml": "turns:\n  - agent: Planner\n    say: '" + planner_says + "'\n"
                               + "  - {agent: Closer, say: Done.}\n" * closer_turns,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


async def test_a_structured_output_runs_the_ui_tool_once_with_its_fields_after_the_reply_is_shown(
    hooks, context, tmp_path
):
    bundle = load(auto_bundle(tmp_path, PLAN))
    calls = bundle.tools[0].function.__globals__["CALLS"]
    hooks.ui_answer = answer_with({"approved": True})
    ctx = context("AutoPlan")
    outcome = await run_workflow(bundle, ctx, hooks)
    assert outcome.status == "completed", outcome
    assert calls == [{"title": "Launch", "phase_steps": ["announce", "ship"], "chat_id": ctx.chat_id,
                      "agent_name": "Planner", "unused": "default"}]  # Title filled title; no stray values
    kinds = [kind for kind in hooks.kinds() if kind in ("chat.text", "chat.tool_call", "ui_tool", "chat.tool_response")]
    assert kinds[:4] == ["chat.text", "chat.tool_call", "ui_tool", "chat.tool_response"]
    call = hooks.events("chat.tool_call")[0]
    assert call["interaction_type"] == "auto_tool"
    assert call["awaiting_response"] is False
    assert call["component_type"] == "PlanCard"
    assert call["arguments"]["phase_steps"] == ["announce", "ship"]
    response = hooks.events("chat.tool_response")[0]
    assert response["success"] is True
    assert response["content"] == {"status": "ok", "message": "The plan was shown."}
    # The tool's context write reached the handoff: Closer spoke after the approved plan.
    assert [event["agent"] for event in hooks.events("chat.text")] == ["Planner", "Closer"]
    assert outcome.messages[-1][CONTEXT_KEY]["plan_approved"] is True


async def test_a_declined_plan_takes_the_other_handoff(hooks, context, tmp_path):
    bundle = load(auto_bundle(tmp_path, PLAN, closer_turns=0))
    hooks.ui_answer = answer_with({"approved": False})
    outcome = await run_workflow(bundle, context("AutoPlan"), hooks)
    assert outcome.status == "completed", outcome
    assert [event["agent"] for event in hooks.events("chat.text")] == ["Planner"]


async def test_a_reply_that_is_not_the_model_runs_nothing(hooks, context, tmp_path):
    bundle = load(auto_bundle(tmp_path, "just words, no plan", closer_turns=0))
    outcome = await run_workflow(bundle, context("AutoPlan"), hooks)
    assert outcome.status == "completed", outcome
    assert bundle.tools[0].function.__globals__["CALLS"] == []
    assert hooks.events("chat.tool_call") == []


async def test_a_failing_auto_tool_is_reported_and_the_chat_goes_on(hooks, context, tmp_path):
    code = "def show_plan(title):\n    raise RuntimeError('no renderer')\n"
    bundle = load(auto_bundle(tmp_path, PLAN, closer_turns=0, code=code))
    outcome = await run_workflow(bundle, context("AutoPlan"), hooks)
    assert outcome.status == "completed", outcome
    response = hooks.events("chat.tool_response")[0]
    assert response["success"] is False
    assert "no renderer" in response["content"]["message"]


def test_auto_tool_mode_without_a_model_or_an_auto_invoked_tool_is_a_warning(tmp_path):
    folder = auto_bundle(tmp_path, PLAN)
    (folder / "structured_outputs.yaml").unlink()
    bundle, problems = load_bundle(folder)
    assert bundle is not None
    assert [(p.code, p.path) for p in problems] == [("agents.auto_tool_mode_without_model",
                                                     "agents[0].auto_tool_mode")]
    folder = auto_bundle(tmp_path / "second", PLAN, tools=TOOLS.replace("ui:", "auto_invoke: false, ui:"))
    bundle, problems = load_bundle(folder)
    assert bundle is not None
    assert [p.code for p in problems] == ["agents.auto_tool_mode_without_tool"]
