"""The AG2 fast paths give AG2's own answers: same filtered messages, same trigger matches."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from autogen import Agent, ConversableAgent
from autogen.agentchat.group.group_utils import make_remove_function
from autogen.exception_utils import SenderRequiredError
from hypothesis import given, settings
from hypothesis import strategies as st

from mozaiks_core.runtime.engine import run_workflow, runner
from mozaiks_core.runtime.engine.fast_paths import ToolMessageFilter, filter_tool_messages, match_trigger, speed_up

from .conftest import DEMO, answer_with, load
from .test_run_workflow import BRIEF

TOOL_NAMES = ["transfer_to_a", "transfer_to_b", "lookup", "save"]
call_ids = st.sampled_from(["c1", "c2", "c3", "c4"])
contents = st.one_of(st.none(), st.sampled_from(["", "None", "hello"]))
tool_call = st.builds(lambda call_id, name: {"id": call_id, "type": "function",
                                             "function": {"name": name, "arguments": "{}"}},
                      call_ids, st.sampled_from(TOOL_NAMES))
call_message = st.builds(lambda calls, content: {"role": "assistant", "name": "A", "content": content,
                                                 "tool_calls": calls},
                         st.lists(tool_call, max_size=3), contents)
response_message = st.builds(
    lambda ids: {"role": "tool", "content": "done",
                 "tool_responses": [{"tool_call_id": i, "role": "tool", "content": "ok"} for i in ids]},
    st.lists(call_ids, max_size=3))
text_message = st.builds(lambda content: {"role": "user", "name": "user", "content": content}, contents)
histories = st.lists(st.one_of(call_message, response_message, text_message), max_size=12)


@settings(max_examples=300, deadline=None)
@given(messages=histories, remove=st.lists(st.sampled_from(TOOL_NAMES), unique=True))
def test_the_filter_returns_what_ag2s_filter_returns_and_leaves_the_history_alone(messages, remove):
    before = copy.deepcopy(messages)

    filtered = filter_tool_messages(messages, tool_msgs_to_remove=remove)

    assert filtered == make_remove_function(remove)(copy.deepcopy(messages))
    assert messages == before
    for message in filtered:  # AG2's OpenAI client rewrites role and content for some models
        message["role"], message["content"] = "user", "System message: changed"
    assert messages == before


@settings(max_examples=300, deadline=None)
@given(messages=histories, remove=st.lists(st.sampled_from(TOOL_NAMES), unique=True),
       replacements=st.dictionaries(st.integers(0, 11), st.one_of(call_message, response_message, text_message),
                                    max_size=3),
       new_list_at=st.integers(0, 12))
def test_an_agents_filter_follows_its_growing_history_as_ag2s_filter_would(messages, remove, replacements,
                                                                            new_list_at):
    """Called after every message appended, as AG2 calls it before each reply; now and then an
    earlier message is replaced or the history is a new list (a resumed chat): never a stale answer."""
    tool_filter = ToolMessageFilter(remove)
    history: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if position == new_list_at:
            history = list(history)
        history.append(message)
        if position - 1 in replacements:
            history[position - 1] = replacements[position - 1]
        before = copy.deepcopy(history)

        filtered = tool_filter(history)

        assert filtered == make_remove_function(remove)(copy.deepcopy(history))
        for item in filtered:
            item["role"], item["content"] = "user", "System message: changed"
        assert history == before


class _Sender(ConversableAgent):
    pass


def _agents() -> tuple[ConversableAgent, ConversableAgent]:
    options: dict[str, Any] = {"llm_config": False, "human_input_mode": "NEVER", "code_execution_config": False}
    return ConversableAgent("receiver", **options), _Sender("sender", **options)


@pytest.mark.parametrize("trigger_of", [
    lambda sender: Agent,
    lambda sender: ConversableAgent,
    lambda sender: _Sender,
    lambda sender: int,
    lambda sender: "sender",
    lambda sender: "someone else",
    lambda sender: sender,
    lambda sender: (lambda candidate: candidate is sender),
    lambda sender: [None, int],
    lambda sender: [int, Agent],
    lambda sender: None,
])
@pytest.mark.parametrize("to_none", [False, True])
def test_trigger_matching_agrees_with_ag2_for_every_kind_of_trigger(trigger_of, to_none):
    receiver, sender = _agents()
    trigger = trigger_of(sender)
    target = None if to_none else sender
    if to_none and isinstance(trigger, str):
        with pytest.raises(SenderRequiredError):
            match_trigger(receiver, trigger, target)
        return
    for _ in range(2):  # the second answer comes from the cache
        assert match_trigger(receiver, trigger, target) == ConversableAgent._match_trigger(receiver, trigger, target)


async def test_every_run_replaces_ag2s_filter_on_its_agents_and_still_completes(hooks, context, monkeypatch):
    installed: list[int] = []

    def recording(agents: list[Any]) -> int:
        installed.append(speed_up(agents))
        filters = 0
        for agent in agents:
            for hook in agent.hook_lists["process_all_messages_before_reply"]:
                assert getattr(getattr(hook, "func", hook), "__name__", "") != "remove_messages"
                filters += isinstance(hook, ToolMessageFilter)
        assert filters == installed[-1]
        return installed[-1]

    monkeypatch.setattr(runner, "speed_up", recording)
    hooks.ui_answer = answer_with(BRIEF)
    hooks.inputs = ["Looks good, finalize it."]

    outcome = await run_workflow(load(DEMO), context("ProductLaunch"), hooks)

    assert outcome.status == "completed"
    [replaced] = installed
    assert replaced >= 2  # the demo's two agents (and its user) had AG2's filter
