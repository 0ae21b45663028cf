"""``db_call``: connection upkeep once per interval and after errors, not around every call."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from mozaiks_core.db import async_db


@pytest.fixture
async def upkeep_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(async_db, "close_old_connections", lambda: calls.append(1))
    # The upkeep time is per thread: reset it on the database thread itself.
    await sync_to_async(lambda: setattr(async_db._upkeep, "at", float("-inf")), thread_sensitive=True)()
    return calls


async def test_back_to_back_calls_do_the_upkeep_once(upkeep_calls: list[int]) -> None:
    double = async_db.db_call(lambda value: value * 2)
    assert [await double(value) for value in range(5)] == [0, 2, 4, 6, 8]
    assert len(upkeep_calls) == 1


async def test_after_an_error_the_next_call_checks_the_connection_again(
    upkeep_calls: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Any] = []
    monkeypatch.setattr(async_db, "_close_broken_connections", lambda: closed.append(1))

    def fail() -> None:
        raise RuntimeError("server closed the connection unexpectedly")

    await async_db.db_call(lambda: None)()
    with pytest.raises(RuntimeError, match="server closed"):
        await async_db.db_call(fail)()
    assert closed == [1]  # a broken connection is closed at once
    await async_db.db_call(lambda: None)()
    assert len(upkeep_calls) == 2  # and the next call does the upkeep again
