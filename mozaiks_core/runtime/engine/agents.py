"""Build the AG2 agents, handoffs and pattern of one run from a :class:`WorkflowBundle`.

Agents are built per run (AG2 accumulates usage and history on agents). ``RunAgent`` meters
every LLM call through the run's hooks and re-attaches the scripted model client whenever AG2
rebuilds its ``OpenAIWrapper`` (tool rewiring and LLM handoff conditions do that).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pydantic
from autogen import ConversableAgent, GroupChat
from autogen.agentchat.group import (
    AgentTarget,
    ContextExpression,
    ContextVariables,
    ExpressionContextCondition,
    OnCondition,
    OnContextCondition,
    RevertToUserTarget,
    StringLLMCondition,
    TerminateTarget,
)
from autogen.agentchat.group.patterns import AutoPattern, DefaultPattern, RandomPattern, RoundRobinPattern
from autogen.agentchat.group.patterns.pattern import Pattern
from autogen.tools import Tool

from mozaiks_core.observability import metrics
from mozaiks_core.runtime.bundles.models import HandoffRule, WorkflowBundle
from mozaiks_core.runtime.engine.auto_tools import AutoTool, auto_tool_for, invoke_auto_tool, sent_message_content
from mozaiks_core.runtime.engine.bridge import HookBridge
from mozaiks_core.runtime.engine.events import USER_AGENT_NAME, RunEventStream
from mozaiks_core.runtime.engine.lifecycle import register_agent_triggers
from mozaiks_core.runtime.engine.on_loop import off_loop, runs_off_loop
from mozaiks_core.runtime.engine.structured import response_format_for
from mozaiks_core.runtime.engine.tools import bind_context
from mozaiks_core.runtime.llm.providers import llm_config_for, model_name, provider, script_for
from mozaiks_core.runtime.llm.scripted import (
    Script,
    ScriptedModelClient,
    bound_client_class,
    estimate_tokens,
    prompt_tokens_of,
)

# AG2 logs every OpenAIWrapper rebuild with a custom client at INFO; runs rebuild on purpose.
logging.getLogger("autogen.oai.client").setLevel(logging.WARNING)

_VARIABLE = re.compile(r"\$\{(\w+)\}")
PATTERN_CLASSES: dict[str, type[Pattern]] = {
    "DefaultPattern": DefaultPattern,
    "AutoPattern": AutoPattern,
    "RoundRobinPattern": RoundRobinPattern,
    "RandomPattern": RandomPattern,
}


@dataclass
class RunState:
    """What the agents of one run share: the bridge to the hooks, the script, the model name."""

    bridge: HookBridge
    events: RunEventStream
    model: str
    script: Script | None

    def before_llm_call(self, agent: str, messages: Any = None, llm_client: Any = None) -> None:
        """Ask the hooks first (raises ``BudgetExceeded`` to stop the run before the call).

        Hooks with a ``llm_call_ready(agent)`` fast path answer in place when nothing needs
        checking yet, saving the round trip through the hooks' pump per call. The hooks get the
        call's estimated prompt tokens and its ``max_tokens`` to reserve them against a hard limit.
        """
        hooks = self.bridge.hooks
        ready = getattr(hooks, "llm_call_ready", None)
        if ready is not None and not self.bridge.closed and ready(agent):
            return
        prompt = prompt_tokens_of(list(messages or []))
        cap = _max_tokens(llm_client)
        self.bridge.call(lambda: hooks.before_llm_call(agent=agent, prompt_tokens=prompt, max_tokens=cap))

    def metered_reply(self, agent: str, generate: Callable[[Any], Any], llm_client: Any, messages: Any) -> Any:
        """One LLM call of ``agent``: announced to the hooks first, its tokens reported after.

        A model server's call runs off the event loop; the scripted model answers in place (it
        neither waits nor does more work than AG2 around it).
        """
        self.before_llm_call(agent, messages, llm_client)
        capture = _UsageCapture(llm_client, off_the_loop=self.script is None)
        started = time.perf_counter()
        reply = generate(capture)
        seconds = time.perf_counter() - started
        usage = getattr(capture.response, "usage", None)
        if usage is not None and (getattr(usage, "prompt_tokens", 0) or getattr(usage, "completion_tokens", 0)):
            prompt, completion = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
        else:  # streamed replies of some servers carry no usage: estimate like the scripted model
            prompt = estimate_tokens("".join(str(message.get("content") or "") for message in messages))
            completion = estimate_tokens(str(reply or ""))
        metrics.llm_call(self.model, seconds, prompt, completion)
        self.record_usage(agent, prompt, completion)
        return reply

    def record_usage(self, agent: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Report one call's tokens (delivered in order with the chat events)."""
        hooks, model = self.bridge.hooks, self.model
        self.bridge.notify(lambda: hooks.record_usage(
            agent=agent, model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        ))


def _max_tokens(llm_client: Any) -> int | None:
    """The ``max_tokens`` the call's model configuration caps completions at (None when uncapped)."""
    for config in getattr(llm_client, "_config_list", None) or []:
        value = config.get("max_tokens") if isinstance(config, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None


class ModelStreamBroken(openai.OpenAIError):
    """The model server's reply broke off: it stalled, closed the connection early, or sent data that is
    not the streaming format. (An ``OpenAIError``: the run fails with ``MODEL_ERROR`` and this reason.)"""


def _broken_stream(error: Exception) -> ModelStreamBroken:
    if isinstance(error, httpx.TimeoutException):
        return ModelStreamBroken(f"the model server sent nothing for longer than the timeout ({error or 'timed out'}); "
                                 "raise MOZAIKS_LLM_TIMEOUT_SECONDS or the bundle's llm_config.timeout if it is slow")
    if isinstance(error, pydantic.ValidationError) and "finish_reason" in str(error):
        return ModelStreamBroken("the model server ended the stream before the reply finished (no finish_reason "
                                 "and no [DONE]); the server or a proxy cut it short")
    if isinstance(error, json.JSONDecodeError | pydantic.ValidationError):
        return ModelStreamBroken(f"the model server sent malformed streaming data (not JSON server-sent events: "
                                 f"{error}); check MOZAIKS_LLM_BASE_URL points at an OpenAI-compatible server")
    return ModelStreamBroken(f"the model server closed the reply before it ended ({type(error).__name__}: {error})")


class _UsageCapture:
    """Wraps an ``OpenAIWrapper`` for one call to read the response's token usage."""

    def __init__(self, wrapper: Any, *, off_the_loop: bool) -> None:
        self.wrapper = wrapper
        self.off_the_loop = off_the_loop
        self.response: Any = None

    def create(self, **kwargs: Any) -> Any:
        create = self.wrapper.create
        try:
            self.response = off_loop(create, **kwargs) if self.off_the_loop else create(**kwargs)
        except (httpx.TransportError, httpx.StreamError, json.JSONDecodeError, pydantic.ValidationError) as error:
            # Raised while AG2 reads and assembles a streamed reply: the openai client wraps only the
            # request's own errors (a reply cut short fails AG2's assembly of its last choice).
            raise _broken_stream(error) from error
        return self.response

    def extract_text_or_completion_object(self, response: Any) -> Any:
        return self.wrapper.extract_text_or_completion_object(response)


class RunAgent(ConversableAgent):
    """A ConversableAgent bound to one run: metered LLM calls, scripted client kept attached."""

    def __init__(self, name: str, *, run: RunState, **kwargs: Any) -> None:
        self.__dict__["_mozaiks_run"] = run
        self.__dict__["_mozaiks_name"] = name
        super().__init__(name, **kwargs)

    @property
    def client(self) -> Any:  # type: ignore[override]
        """AG2's model wrapper of this agent."""
        return self.__dict__.get("_mozaiks_client")

    @client.setter
    def client(self, wrapper: Any) -> None:
        self.__dict__["_mozaiks_client"] = wrapper
        run: RunState = self.__dict__["_mozaiks_run"]
        if wrapper is not None and run.script is not None:
            name = self.__dict__["_mozaiks_name"]
            wrapper.register_model_client(ScriptedModelClient, script=run.script, agent_name=name)

    def send(self, message: Any, recipient: Any, request_reply: bool | None = None, silent: bool = False) -> None:
        """Send as AG2 does; then a structured output of an ``auto_tool_mode`` agent runs its tool."""
        super().send(message, recipient, request_reply=request_reply, silent=silent)
        auto = self.__dict__.get("_mozaiks_auto_tool")
        content = sent_message_content(message)
        if auto is not None and content is not None:
            run: RunState = self.__dict__["_mozaiks_run"]
            invoke_auto_tool(auto[0], content, run.events, auto[1])

    def use_auto_tool(self, auto_tool: AutoTool, context_variables: Any) -> None:
        """Run ``auto_tool`` with ``context_variables`` for each structured output this agent sends."""
        self.__dict__["_mozaiks_auto_tool"] = (auto_tool, context_variables)

    def _generate_oai_reply_from_client(self, llm_client: Any, messages: Any, cache: Any, **kwargs: Any) -> Any:
        run: RunState = self.__dict__["_mozaiks_run"]
        parent = super()._generate_oai_reply_from_client
        return run.metered_reply(self.name, lambda client: parent(client, messages, cache, **kwargs),
                                 llm_client, messages)


class UserAgent(ConversableAgent):
    """The human: every turn asks the hooks for input (``chat.input_request``) and waits."""

    def __init__(self, *, run: RunState, agents: list[ConversableAgent] | None = None) -> None:
        self._run = run
        self._agents = agents or []
        super().__init__(USER_AGENT_NAME, human_input_mode="ALWAYS", llm_config=False, code_execution_config=False)

    def get_human_input(self, prompt: str, **_: Any) -> str:
        """Wait (the run yields to the event loop) until the user answers through the hooks."""
        hooks, agent = self._run.bridge.hooks, self._run.events.last_assistant or ""
        question = f"{agent} is waiting for your reply." if agent else "Your message"
        self._run.bridge.checkpoint()
        answer = str(self._run.bridge.call(lambda: hooks.request_input(agent=agent, prompt=question)))
        # The user spoke: the agents' replies are no longer consecutive. AG2 only resets an agent's
        # counter when a human answers that agent directly, so in a group chat every agent ended
        # the run (as "completed") after max_consecutive_auto_reply (default 100) replies in all.
        for member in self._agents:
            member.reset_consecutive_auto_reply_counter()
        return answer


class LenientExpressionCondition(ExpressionContextCondition):
    """An expression condition where a variable that is not set reads as False (DESIGN.md)."""

    def evaluate(self, context_variables: ContextVariables) -> bool:
        """Evaluate with missing ``${var}`` references treated as False."""
        names = _VARIABLE.findall(self.expression.expression)
        missing = [name for name in names if not context_variables.contains(name)]
        if missing:
            context_variables = ContextVariables(data={**context_variables.to_dict(), **dict.fromkeys(missing, False)})
        return self.expression.evaluate(context_variables)


def _expression(condition: str) -> LenientExpressionCondition:
    return LenientExpressionCondition(expression=ContextExpression(condition))


def has_user(bundle: WorkflowBundle) -> bool:
    """True when the workflow talks with the user during a run (human_in_the_loop or handoffs to/from user)."""
    return bundle.orchestrator.human_in_the_loop or any(
        rule.targets_user or rule.from_user for rule in bundle.handoffs
    )


def build_pattern(
    bundle: WorkflowBundle,
    state: RunState,
    context: dict[str, Any],
    *,
    start_note: str | None = None,
    with_user: bool = False,
) -> Pattern:
    """Agents with tools, hooks and handoffs, wired into the bundle's orchestration pattern.

    ``start_note`` (the ``initial_message`` of a chat the user starts) joins the entry agent's prompt;
    ``with_user`` adds the user agent even to a workflow that never asks (a resumed history names it).
    """
    orchestrator = bundle.orchestrator
    stream = provider() == "openai"
    context_variables = ContextVariables(data=context)
    agents: dict[str, ConversableAgent] = {}
    for spec in bundle.agents.values():
        response_format = response_format_for(bundle, spec.name)
        system_message = spec.system_message or "You are a helpful assistant."
        if start_note and spec.name == bundle.entry_agent:
            system_message = f"{system_message}\n\n[START]\n{start_note}"
        agent = RunAgent(
            spec.name, run=state, system_message=system_message,
            description=spec.description or spec.system_message[:200] or spec.name,
            llm_config=llm_config_for(bundle, response_format=response_format, stream=stream),
            human_input_mode="NEVER", code_execution_config=False,
            max_consecutive_auto_reply=spec.max_consecutive_auto_reply,
        )
        auto_tool = auto_tool_for(bundle, spec.name)
        if auto_tool is not None:  # its structured outputs run the tool; the model is offered no tools
            agent.use_auto_tool(auto_tool, context_variables)
        for tool in bundle.tools_for(spec.name) if auto_tool is None else ():
            function = bind_context(tool.function, context_variables)
            Tool(name=tool.name, description=tool.description or tool.name, func_or_tool=function)\
                .register_for_llm(agent)
        agents[spec.name] = agent
    interactive = has_user(bundle)
    user = UserAgent(run=state, agents=list(agents.values())) if interactive or with_user else None
    for hook in bundle.hooks:
        for name, agent in agents.items():
            if hook.agent in ("all", name):
                agent.register_hook(hook.hook_type, runs_off_loop(hook.function))
    for agent in agents.values():
        register_agent_triggers(bundle, agent)
    _apply_handoffs(bundle.handoffs, agents, user)
    pattern_cls = PATTERN_CLASSES[orchestrator.orchestration_pattern]
    kwargs: dict[str, Any] = {
        "initial_agent": agents[bundle.entry_agent],
        "agents": list(agents.values()),
        "user_agent": user,
        "context_variables": context_variables,
    }
    if pattern_cls is DefaultPattern:
        kwargs["group_after_work"] = RevertToUserTarget() if interactive else TerminateTarget()
    if pattern_cls is AutoPattern:
        kwargs["group_manager_args"] = {"llm_config": llm_config_for(bundle)}
    return pattern_cls(**kwargs)


def _target(rule: HandoffRule, agents: dict[str, ConversableAgent]) -> Any:
    if rule.terminates:
        return TerminateTarget()
    if rule.targets_user:
        return RevertToUserTarget()
    return AgentTarget(agents[rule.target_agent])


def _apply_handoffs(rules: tuple[HandoffRule, ...], agents: dict[str, ConversableAgent],
                    user: ConversableAgent | None) -> None:
    for rule in rules:
        source = user if rule.from_user else agents.get(rule.source_agent)
        if source is None:
            continue
        target = _target(rule, agents)
        if rule.condition_type == "string_llm" and source is not user:
            condition = StringLLMCondition(prompt=rule.condition or "")
            source.handoffs.add_llm_condition(OnCondition(target=target, condition=condition))
        elif rule.condition_type == "expression":
            condition = OnContextCondition(target=target, condition=_expression(rule.condition or "True"))
            if rule.handoff_type == "after_work" or source is user:
                source.handoffs.add_after_work(condition)  # a conditional after-work
            else:
                source.handoffs.add_context_condition(condition)
        else:
            source.handoffs.add_after_work(OnContextCondition(target=target, condition=None))  # kept last


def prepare_speaker_selection(manager: Any, bundle: WorkflowBundle, state: RunState) -> None:
    """AutoPattern's LLM speaker selection: metered like any call, answered by the script when scripted.

    The manager runs the chat with a copy of its GroupChat held in its reply-function config, and
    AG2 builds a fresh internal selector agent per selection, so each copy is patched.
    """
    copies = {id(entry["config"]): entry["config"] for entry in manager._reply_func_list
              if isinstance(entry.get("config"), GroupChat)}
    copies[id(manager.groupchat)] = manager.groupchat
    for groupchat in copies.values():
        if state.script is not None:  # turns of agent ``chat_manager`` name the next speaker
            groupchat.select_speaker_auto_llm_config = llm_config_for(bundle)
            groupchat.select_speaker_auto_model_client_cls = bound_client_class(state.script, manager.name)
        groupchat._create_internal_agents = _metered_selector(groupchat._create_internal_agents, state, manager.name)


def _metered_selector(create: Callable[..., Any], state: RunState, name: str) -> Callable[..., Any]:
    def create_metered(*args: Any, **kwargs: Any) -> Any:
        checking_agent, selector = create(*args, **kwargs)
        generate = selector._generate_oai_reply_from_client

        def metered(llm_client: Any, messages: Any, cache: Any, **more: Any) -> Any:
            return state.metered_reply(name, lambda client: generate(client, messages, cache, **more),
                                       llm_client, messages)

        selector._generate_oai_reply_from_client = metered
        return checking_agent, selector

    return create_metered


def new_run_state(
    bundle: WorkflowBundle, bridge: HookBridge, events: RunEventStream, history: list[dict[str, Any]] | None
) -> RunState:
    """The shared state of one run (a fresh script when the provider is scripted, past turns skipped)."""
    script = script_for(bundle) if provider() == "scripted" else None
    if script is not None and history:
        script.skip_replayed(history, set(bundle.agents))
    return RunState(bridge=bridge, events=events, model=model_name(bundle), script=script)
