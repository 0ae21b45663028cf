"""The bare-AG2 baseline of the runtime benchmark: the same run without MozaiksCore around it.

``bare_ag2_run`` runs a DefaultPattern of two agents handing off to each other for ``turns``
turns with the zero-latency scripted client, a silent IOStream, and nothing else: no hooks,
no events, no metering. ``benchmark_bundle`` is the identical workflow as a bundle, for
``run_workflow``. ``benchmarks/runtime.py`` compares the two per turn.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autogen import ConversableAgent
from autogen.agentchat import initiate_group_chat
from autogen.agentchat.group import AgentTarget, ContextVariables, OnContextCondition
from autogen.agentchat.group.patterns import DefaultPattern
from autogen.io.base import IOStream

from mozaiks_core.runtime.bundles.models import AgentSpec, HandoffRule, Orchestrator, WorkflowBundle
from mozaiks_core.runtime.llm.scripted import SCRIPTED_MODEL_NAME, Script, ScriptedModelClient, ScriptTurn

AGENTS = ("Writer", "Editor")
SEED = "Start the relay."


class _Silent:
    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        """Dropped."""

    def send(self, message: Any) -> None:
        """Dropped."""

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        """No console."""
        return ""


def _turns(turns: int) -> list[ScriptTurn]:
    return [ScriptTurn(agent=AGENTS[index % 2], say=f"turn {index + 1}") for index in range(turns)]


def bare_ag2_run(turns: int = 10) -> float:
    """Seconds one bare AG2 run of ``turns`` agent turns takes (agents built per run, like the engine)."""
    started = time.perf_counter()
    script = Script(_turns(turns))
    config = {"config_list": [{"model": SCRIPTED_MODEL_NAME, "model_client_cls": ScriptedModelClient.__name__}],
              "cache_seed": None}
    agents = [ConversableAgent(name, system_message=f"You are {name}.", llm_config=config,
                               human_input_mode="NEVER", code_execution_config=False) for name in AGENTS]
    for agent in agents:
        agent.register_model_client(ScriptedModelClient, script=script, agent_name=agent.name)
    agents[0].handoffs.add_after_work(OnContextCondition(target=AgentTarget(agents[1]), condition=None))
    agents[1].handoffs.add_after_work(OnContextCondition(target=AgentTarget(agents[0]), condition=None))
    pattern = DefaultPattern(initial_agent=agents[0], agents=agents, context_variables=ContextVariables())
    with IOStream.set_default(_Silent()):  # type: ignore[arg-type]
        initiate_group_chat(pattern=pattern, messages=SEED, max_rounds=turns + 1)
    return time.perf_counter() - started


def benchmark_bundle(turns: int = 10) -> WorkflowBundle:
    """The same relay as a bundle for ``run_workflow`` (scripted model, no user, ``turns`` turns)."""
    return WorkflowBundle(
        name="BenchmarkRelay",
        path=Path(__file__).parent,
        orchestrator=Orchestrator(workflow_name="BenchmarkRelay", max_turns=turns + 1, initial_message=SEED),
        agents={name: AgentSpec(name=name, system_message=f"You are {name}.") for name in AGENTS},
        handoffs=(HandoffRule("Writer", "Editor", "after_work"), HandoffRule("Editor", "Writer", "after_work")),
        script={"turns": [{"agent": turn.agent, "say": turn.say} for turn in _turns(turns)]},
    )
