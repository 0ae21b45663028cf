"""The contract between the workflow engine and the rest of the runtime.

The engine (AG2, in ``runtime/engine/``) knows nothing about sockets, databases or Celery: it
runs one workflow and talks to the outside world only through a :class:`RunHooks` object. The
run service (``runtime/services.py``) implements the hooks: it persists chat events, publishes
them to the chat's channel-layer group, waits for human input and UI-tool answers arriving
through the channel layer, and meters usage. A later engine is a new module behind the same
contract, not a rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class BudgetExceeded(Exception):
    """The organization's token budget is exhausted: the run stops before the next LLM call."""

    error_code = "TOKEN_BUDGET_EXCEEDED"


class RunCancelled(Exception):
    """The chat was cancelled (by an operator or the user) while the run was waiting."""


class UIToolTimeout(Exception):
    """Nobody answered a UI tool within its timeout."""


@dataclass(frozen=True)
class RunContext:
    """Identity of one run; seeds the context variables every workflow gets."""

    chat_id: str
    app_id: str
    workflow_name: str
    user_id: str
    organization_id: str
    cache_seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def context_variables(self) -> dict[str, Any]:
        """The variables DESIGN.md guarantees: chat_id, app_id, workflow_name, user_id (+ extra)."""
        return {
            "chat_id": self.chat_id,
            "app_id": self.app_id,
            "workflow_name": self.workflow_name,
            "user_id": self.user_id,
            **self.extra,
        }


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: ``completed``, ``waiting_input`` never (runs block instead), ``failed``."""

    status: str  # "completed" | "failed" | "cancelled"
    summary: str = ""
    error_code: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # AG2 message history, for resume


class RunHooks(Protocol):
    """What the engine may ask of the runtime during one run (all coroutine methods)."""

    async def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """A chat event (``chat.text``, ``chat.tool_call``, ``chat.tool_response``,
        ``chat.select_speaker``, ``chat.usage_delta``, ...): persisted with the next ``seq``
        and delivered to every socket of the chat."""

    async def emit_transient(self, event_type: str, data: dict[str, Any]) -> None:
        """A connection frame that is delivered but never persisted (``chat.print`` deltas)."""

    async def request_input(self, *, agent: str, prompt: str) -> str:
        """Ask the user for input (``chat.input_request``) and block until the answer arrives."""

    async def request_ui_tool(
        self,
        *,
        tool_name: str,
        component_type: str,
        payload: dict[str, Any],
        display: str,
        timeout: float | None,
        agent: str = "",
    ) -> dict[str, Any]:
        """Emit a UI ``chat.tool_call`` (``agent``: the agent whose tool it is) and block until
        ``ui_tool_response`` (socket or HTTP).
        Raises :class:`UIToolTimeout` when ``timeout`` passes."""

    async def before_llm_call(self, *, agent: str, prompt_tokens: int = 0, max_tokens: int | None = None) -> None:
        """Called before every LLM call; raises :class:`BudgetExceeded` to stop the run.

        ``prompt_tokens`` estimates the call's prompt and ``max_tokens`` is the completion cap the
        call is made with (None: no cap configured), so the runtime can reserve the call's cost
        against a hard token limit before the call and refuse a call the budget cannot cover.

        Optional fast path: hooks may also define a plain ``llm_call_ready(agent) -> bool``. The
        engine calls it on the run's own thread first; ``True`` promises that ``before_llm_call``
        would return at once without raising, and the engine skips it (no thread hand-off).
        """

    async def record_usage(
        self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        """Called after every LLM call: emits ``chat.usage_delta`` and writes one usage record."""
