"""The process's latest token-budget answer per organization, shared by all of its runs.

Before every LLM call a run must know that its organization's budget is not exhausted. Asking
the database each time made the budget check the biggest cost of a busy run worker (two reads
of entitlements and counters per call, all on the process's one database thread). The budget
is the organization's, not the run's, so one answer serves every run of that organization in
the process:

- an answer is trusted for ``MOZAIKS_BUDGET_CHECK_SECONDS`` (default 1 s) after it was read;
- answers come from budget checks and from the meter itself (each committed LLM call returns
  the counter after it), so a run of a busy organization rarely needs a check of its own;
- runs whose check is due at the same moment share one query (no stampede).

What this bounds: a run notices within that time that *another process* used the budget up;
usage metered in this process is seen at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mozaiks_core.entitlements.types import TokenBudget


@dataclass(frozen=True, slots=True)
class _Answer:
    budget: TokenBudget
    at: float  # time.monotonic() when it was read


class BudgetBoard:
    """Latest :class:`TokenBudget` per organization pk (thread-safe; checks coalesce per event loop)."""

    def __init__(self) -> None:
        self._answers: dict[int, _Answer] = {}
        self._lock = threading.Lock()
        self._checks: dict[tuple[asyncio.AbstractEventLoop, int], asyncio.Future[TokenBudget]] = {}

    def fresh(self, organization_pk: int, max_age: float) -> TokenBudget | None:
        """The latest answer if it is younger than ``max_age`` seconds, else None."""
        answer = self._answers.get(organization_pk)
        if answer is None or time.monotonic() - answer.at >= max_age:
            return None
        return answer.budget

    def note(self, organization_pk: int, budget: TokenBudget, at: float | None = None) -> None:
        """Record an answer read at ``at`` (default now); an older answer never replaces a newer one."""
        at = time.monotonic() if at is None else at
        with self._lock:
            current = self._answers.get(organization_pk)
            if current is None or current.at <= at:
                self._answers[organization_pk] = _Answer(budget, at)

    async def current(self, organization_pk: int, max_age: float,
                      read: Callable[[], Awaitable[TokenBudget]]) -> TokenBudget:
        """A fresh answer, reading it with ``read()`` unless another run of this loop already is."""
        budget = self.fresh(organization_pk, max_age)
        if budget is not None:
            return budget
        key = (asyncio.get_running_loop(), organization_pk)
        check = self._checks.get(key)
        if check is None:
            check = asyncio.ensure_future(self._read(organization_pk, read))
            self._checks[key] = check
            check.add_done_callback(lambda _: self._checks.pop(key, None))
        return await asyncio.shield(check)

    async def _read(self, organization_pk: int, read: Callable[[], Awaitable[TokenBudget]]) -> TokenBudget:
        started = time.monotonic()
        budget = await read()
        self.note(organization_pk, budget, started)
        return budget

    def forget(self, organization_pk: int | None = None) -> None:
        """Drop one organization's answer (after a plan or override change), or all of them."""
        with self._lock:
            if organization_pk is None:
                self._answers.clear()
            else:
                self._answers.pop(organization_pk, None)


budgets = BudgetBoard()
