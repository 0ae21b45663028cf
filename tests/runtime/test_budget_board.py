"""The process's shared token-budget answers: freshness, ordering, one read for many runs."""

from __future__ import annotations

import asyncio
import time

import pytest

from mozaiks_core.entitlements.types import TokenBudget
from mozaiks_core.runtime.runs.budgets import BudgetBoard

OK = TokenBudget(remaining=500, limit=1000, used=500)
EXHAUSTED = TokenBudget(exhausted=True, remaining=0, limit=1000, used=1000)


def test_an_answer_is_trusted_for_max_age_only() -> None:
    board = BudgetBoard()
    assert board.fresh(1, 1.0) is None
    board.note(1, OK)
    assert board.fresh(1, 1.0) is OK
    assert board.fresh(2, 1.0) is None  # per organization
    board.note(3, OK, at=time.monotonic() - 2.0)
    assert board.fresh(3, 1.0) is None


def test_an_older_answer_never_replaces_a_newer_one() -> None:
    board = BudgetBoard()
    now = time.monotonic()
    board.note(1, EXHAUSTED, at=now)
    board.note(1, OK, at=now - 0.5)  # a check that started before the meter's answer came back
    assert board.fresh(1, 1.0) is EXHAUSTED
    board.forget(1)
    assert board.fresh(1, 1.0) is None


async def test_runs_due_at_once_share_one_read() -> None:
    board = BudgetBoard()
    reads = 0

    async def read() -> TokenBudget:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)
        return OK

    answers = await asyncio.gather(*(board.current(7, 1.0, read) for _ in range(20)))
    assert answers == [OK] * 20
    assert reads == 1
    assert await board.current(7, 1.0, read) is OK
    assert reads == 1
    board.forget()
    await board.current(7, 1.0, read)
    assert reads == 2


async def test_a_failed_read_reaches_every_waiter_and_the_next_call_reads_again() -> None:
    board = BudgetBoard()
    attempts = 0

    async def read() -> TokenBudget:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise ConnectionError("database down")
        return OK

    results = await asyncio.gather(*(board.current(9, 1.0, read) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await board.current(9, 1.0, read) is OK
    assert attempts == 2


@pytest.mark.parametrize("max_age", [0.0])
async def test_max_age_zero_reads_every_time(max_age: float) -> None:
    board = BudgetBoard()
    reads = 0

    async def read() -> TokenBudget:
        nonlocal reads
        reads += 1
        return OK

    await board.current(1, max_age, read)
    await board.current(1, max_age, read)
    assert reads == 2
