"""The run service on its own: transient frames, budgets, ordering of durable events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from mozaiks_core.entitlements.services import TokenBudget
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from mozaiks_core.runtime.protocol.groups import chat_group
from mozaiks_core.runtime.runs.execution import RunService
from tests.runtime.transport.conftest import Client, new_chat, socket_path

pytestmark = pytest.mark.django_db(transaction=True)


async def test_print_deltas_are_delivered_in_order_but_never_stored(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    session = await database_sync_to_async(ChatSession.objects.select_related("organization", "user").get)(
        pk=session.pk)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(chat_group(session.chat_id), channel)
    service = RunService(session, "")
    await service.emit("chat.select_speaker", {"agent": "ChatterAgent"})
    await service.emit_transient("chat.print", {"agent": "ChatterAgent", "content": "Hel"})
    await service.emit("chat.text", {"agent": "ChatterAgent", "content": "Hello"})
    await service.flush()
    frames = []
    while len(frames) < 3:
        frames += (await layer.receive(channel))["frames"]
    assert [(seq, json.loads(text)["type"]) for seq, text in frames] == [
        (0, "chat.select_speaker"), (None, "chat.print"), (1, "chat.text")]
    stored = await database_sync_to_async(lambda: list(ChatEvent.objects.filter(chat=session).values_list(
        "seq", "type")))()
    assert stored == [(0, "chat.select_speaker"), (1, "chat.text")]
    assert (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).last_seq == 1


async def test_an_exhausted_token_budget_stops_the_run_with_a_structured_error(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await database_sync_to_async(new_chat)(alice, "HelloUI")  # created while budget remained
    monkeypatch.setattr("mozaiks_core.entitlements.services.check_token_budget",
                        lambda **kwargs: TokenBudget(exhausted=True, remaining=0))
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    error = await client.until("chat.error")
    assert error["data"]["error_code"] == "TOKEN_BUDGET_EXCEEDED"
    assert "seq" in error  # a run's error is a chat event
    done = await client.until("chat.run_complete")
    assert done["data"]["status"] == "failed"
    assert (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).error_code == \
        "TOKEN_BUDGET_EXCEEDED"
    await client.close()


def test_a_run_start_uses_a_fresh_shared_budget_answer_but_reads_again_after_an_exhausted_one(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mozaiks_core.runtime.runs.budgets import budgets
    from mozaiks_core.runtime.runs.execution import _load_run_state

    session = new_chat(alice, "Chatter")
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.RUNNING)
    reads: list[int] = []

    def check(**kwargs: Any) -> TokenBudget:
        reads.append(1)
        return TokenBudget(remaining=5)

    monkeypatch.setattr("mozaiks_core.entitlements.services.check_token_budget", check)
    budgets.note(session.organization_id, TokenBudget(remaining=100))
    state = _load_run_state(session.chat_id)
    assert reads == []  # another run's answer (or the meter's) from this very second serves
    assert state.budget.remaining == 100
    assert state.budget_read_at is None  # and is not re-shared as if it were new
    budgets.note(session.organization_id, TokenBudget(exhausted=True, remaining=0))
    state = _load_run_state(session.chat_id)
    assert reads == [1]  # an "exhausted" answer is checked again: the limit may have been raised
    assert state.budget.remaining == 5
    assert state.budget_read_at is not None
    budgets.forget(session.organization_id)


async def test_a_run_waiting_for_the_user_keeps_its_heartbeat_and_is_never_reaped(alice: Any, settings: Any) -> None:
    import asyncio

    from django.utils import timezone

    from mozaiks_core.runtime import services

    settings.MOZAIKS_RUN_HEARTBEAT_SECONDS = 0.3  # reaped after 0.9 s without a heartbeat
    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    await client.send({"type": "user.input.submit", "text": "go"})
    await client.until("chat.input_request")
    await asyncio.sleep(1.5)  # five heartbeats, and no event, while the run waits

    assert await database_sync_to_async(services.reap_stale_runs)() == 0
    waiting = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert waiting.status == ChatSession.Status.WAITING_INPUT
    assert (timezone.now() - waiting.heartbeat_at).total_seconds() < 0.9
    await database_sync_to_async(services.cancel_chat)(session)
    await client.until("chat.run_complete")
    await client.close()


async def test_an_answer_reaches_the_waiting_run_as_the_layer_receives_it(alice: Any) -> None:
    import asyncio

    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.protocol.groups import run_group

    service = await open_service(alice)
    session = service.session
    service._tasks[0].cancel()  # the listening task: the answer must not need it
    waiting = asyncio.get_running_loop().create_future()
    service._waiters["req-1"] = waiting
    await get_channel_layer().group_send(run_group(session.chat_id), services.answer_message("req-1", {"text": "hi"}))
    assert waiting.done()  # in the same turn of the loop as the send
    assert waiting.result() == {"text": "hi"}
    await get_channel_layer().group_send(run_group(session.chat_id), {"type": "run.cancel"})
    assert service.cancelled
    await service.close()


async def test_a_waiting_run_goes_on_at_the_loops_next_turn_after_its_answer_arrives(alice: Any) -> None:
    import asyncio

    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.models import PendingRequest
    from mozaiks_core.runtime.protocol.groups import run_group

    service = await open_service(alice)
    session = service.session
    ask = asyncio.ensure_future(service._ask(PendingRequest.Kind.INPUT, "req-2", "chat.input_request",
                                             {"prompt": "?", "request_id": "req-2"}, None))
    await service.flush()  # the request is committed; the run now waits for the answer
    for _ in range(5):
        await asyncio.sleep(0)
    assert not ask.done()
    await get_channel_layer().group_send(run_group(session.chat_id), services.answer_message("req-2", {"text": "ok"}))
    await asyncio.sleep(0)  # one turn of the loop
    assert ask.done()
    assert ask.result() == {"text": "ok"}
    await service.close()


async def open_service(user: Any) -> RunService:
    """The run service of a new chat of ``user``, subscribed to its run group."""
    session = await database_sync_to_async(new_chat)(user, "Chatter")
    session = await database_sync_to_async(ChatSession.objects.select_related("organization", "user").get)(
        pk=session.pk)
    service = RunService(session, "")
    await service.open()
    return service
