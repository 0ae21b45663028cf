"""An in-memory :class:`RunHooks` and helpers to run fixture bundles through the engine."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mozaiks_core.runtime.bundles.loader import load_bundle
from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.engine.hooks import RunContext

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "runtime" / "bundles" / "fixtures"
DEMO = ROOT / "app" / "workflows" / "ProductLaunch"

UIAnswer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class FakeHooks:
    """Records every hook call in order; answers input and UI tools from queues or callables."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.inputs: list[str] = []
        self.ui_answer: UIAnswer | None = None
        self.on_before_llm_call: Callable[[int], None] | None = None
        self.llm_calls = 0

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """The data of every emitted event of ``event_type``, in order."""
        return [data for kind, data in self.log if kind == event_type]

    def kinds(self) -> list[str]:
        """The kind of every recorded call, in order."""
        return [kind for kind, _ in self.log]

    async def emit(self, event_type: str, data: dict[str, Any]) -> None:
        self.log.append((event_type, data))

    async def emit_transient(self, event_type: str, data: dict[str, Any]) -> None:
        self.log.append((event_type, data))

    async def request_input(self, *, agent: str, prompt: str) -> str:
        self.log.append(("input_request", {"agent": agent, "prompt": prompt}))
        if not self.inputs:
            raise AssertionError(f"unexpected input request from {agent}")
        return self.inputs.pop(0)

    async def request_ui_tool(self, *, tool_name: str, component_type: str, payload: dict[str, Any],
                              display: str, timeout: float | None, agent: str = "") -> dict[str, Any]:
        request = {"tool_name": tool_name, "component_type": component_type, "payload": payload,
                   "display": display, "timeout": timeout, "agent": agent}
        self.log.append(("ui_tool", request))
        if self.ui_answer is None:
            raise AssertionError(f"unexpected UI tool {tool_name}")
        return await self.ui_answer(request)

    async def before_llm_call(self, *, agent: str, prompt_tokens: int = 0, max_tokens: int | None = None) -> None:
        self.llm_calls += 1
        self.log.append(("before_llm_call", {"agent": agent}))
        if self.on_before_llm_call is not None:
            self.on_before_llm_call(self.llm_calls)

    async def record_usage(self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.log.append(("usage", {"agent": agent, "model": model, "prompt_tokens": prompt_tokens,
                                   "completion_tokens": completion_tokens}))


def answer_with(values: dict[str, Any]) -> UIAnswer:
    """A UI answer callable returning ``values`` at once."""

    async def answer(_: dict[str, Any]) -> dict[str, Any]:
        return values

    return answer


@pytest.fixture(autouse=True)
def _scripted(settings):
    settings.MOZAIKS_LLM_PROVIDER = "scripted"
    settings.MOZAIKS_LLM_SCRIPT = ""


@pytest.fixture
def hooks() -> FakeHooks:
    """A fresh in-memory hooks object."""
    return FakeHooks()


@pytest.fixture
def context() -> Callable[[str], RunContext]:
    """A RunContext factory with a unique chat id."""

    def make(workflow: str) -> RunContext:
        return RunContext(chat_id=f"chat-{uuid.uuid4().hex[:8]}", app_id="mozaiks-demo", workflow_name=workflow,
                          user_id="7", organization_id="3")

    return make


def load(path: Path) -> WorkflowBundle:
    """Load a bundle that must be valid."""
    bundle, problems = load_bundle(path)
    assert bundle is not None, problems
    return bundle


@pytest.fixture
def bundle_copy(tmp_path) -> Callable[[Path, dict[str, str]], WorkflowBundle]:
    """Copy a bundle, overwrite some of its files, and load the copy."""

    def make(source: Path, files: dict[str, str]) -> WorkflowBundle:
        target = tmp_path / source.name
        shutil.copytree(source, target, dirs_exist_ok=True)
        for name, text in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text)
        return load(target)

    return make


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds (the engine thread reports asynchronously)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)
