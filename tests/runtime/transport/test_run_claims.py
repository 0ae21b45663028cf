"""A run that lost its chat (reaped while stalled, the chat started again) cannot write to it any more."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone

from mozaiks_core.db.fast_sql import Guard, update_many_by_pk
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest
from mozaiks_core.runtime.runs.execution import RunService
from mozaiks_core.runtime.runs.writer import ClaimLost
from tests.runtime.transport.conftest import new_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]


def _claimed(user: Any) -> ChatSession:
    """A chat claimed by a run, as ``start_run`` leaves it (without dispatching the run)."""
    session = new_chat(user, "Chatter")
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.RUNNING,
                                                     run_claim=services.new_run_claim(), heartbeat_at=timezone.now())
    return ChatSession.objects.select_related("organization", "user").get(pk=session.pk)


def _reap_and_restart(session: ChatSession) -> str:
    """What happens to a stalled run's chat: reaped (heartbeat too old), then claimed by a new run."""
    ChatSession.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
    assert services.reap_stale_runs(chat_ids=[session.chat_id]) == 1
    reaped = ChatSession.objects.get(pk=session.pk)
    assert reaped.run_claim not in ("", session.run_claim)  # reaping alone takes the claim away
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.RUNNING,
                                                     run_claim=services.new_run_claim())
    return ChatSession.objects.get(pk=session.pk).run_claim


def test_a_guarded_update_changes_rows_that_hold_the_claim_and_fails_whole_for_one_that_does_not(
    alice: Any
) -> None:
    kept, lost, free = (_claimed(alice) for _ in range(3))
    now = timezone.now()
    updates = {chat.pk: {"updated_at": now, "last_seq": 7} for chat in (kept, lost, free)}

    update_many_by_pk(ChatSession, updates, guard=Guard("run_claim", {kept.pk: kept.run_claim}, "updated_at"))
    assert ChatSession.objects.get(pk=kept.pk).last_seq == 7
    assert ChatSession.objects.get(pk=free.pk).last_seq == 7  # not named by the guard: not guarded

    later = {chat.pk: {"updated_at": now, "last_seq": 9} for chat in (kept, lost)}
    with pytest.raises(IntegrityError), transaction.atomic():
        update_many_by_pk(ChatSession, later, guard=Guard(
            "run_claim", {kept.pk: kept.run_claim, lost.pk: "someone-else"}, "updated_at"))
    assert [ChatSession.objects.get(pk=chat.pk).last_seq for chat in (kept, lost)] == [7, 7]  # rolled back

    with pytest.raises(ValueError, match="updated_at"):
        update_many_by_pk(ChatSession, {kept.pk: {"last_seq": 1}},
                          guard=Guard("run_claim", {kept.pk: kept.run_claim}, "updated_at"))


async def test_a_stalled_run_reaped_and_replaced_cannot_write_and_leaves_the_new_runs_requests_open(
    alice: Any
) -> None:
    session = await database_sync_to_async(_claimed)(alice)
    stalled = RunService(session, "")
    await stalled.open()
    await stalled.emit("chat.text", {"agent": "ChatterAgent", "content": "before the stall"})
    await stalled.flush()
    stalled._asked.add("stalled-request")

    new_claim = await database_sync_to_async(_reap_and_restart)(session)
    fresh = await database_sync_to_async(ChatSession.objects.select_related("organization", "user").get)(
        pk=session.pk)
    replacement = RunService(fresh, "")
    await replacement.open()
    assert replacement.claim == new_claim
    await database_sync_to_async(PendingRequest.objects.create)(
        chat=fresh, request_id="new-request", kind=PendingRequest.Kind.INPUT, seq=1, frame={})

    # The stalled run wakes up and carries on: its next write is refused, its event not stored.
    await stalled.emit("chat.text", {"agent": "ChatterAgent", "content": "after the stall"})
    with pytest.raises(ClaimLost, match="no longer holds the chat"):
        await stalled.flush()
    with pytest.raises(RuntimeError, match="no longer holds the chat"):
        await stalled.emit("chat.text", {"agent": "ChatterAgent", "content": "refused before writing"})
    await stalled.close()

    # The new run numbers from the chat's committed history and writes as usual.
    await replacement.emit("chat.text", {"agent": "ChatterAgent", "content": "the new run"})
    await replacement.flush()
    stored = await database_sync_to_async(lambda: list(
        ChatEvent.objects.filter(chat=session).order_by("seq").values_list("seq", "payload__content")))()
    assert stored == [(0, "before the stall"), (1, "the new run")]
    chat = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert (chat.last_seq, chat.run_claim) == (1, new_claim)
    assert not (await database_sync_to_async(PendingRequest.objects.get)(request_id="new-request")).closed
    await replacement.close()


async def test_a_run_that_starts_after_its_chat_was_claimed_again_does_not_run(alice: Any) -> None:
    from mozaiks_core.runtime.runs.execution import execute_run

    session = await database_sync_to_async(_claimed)(alice)
    queued_claim = session.run_claim  # what start_run handed the executor; the task waits in a queue
    new_claim = await database_sync_to_async(_reap_and_restart)(session)

    outcome = await execute_run(session.chat_id, user_message="hello", claim=queued_claim)

    assert outcome.summary == "The chat was no longer claimed for this run."
    assert not await database_sync_to_async(ChatEvent.objects.filter(chat=session).exists)()
    chat = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert (chat.status, chat.run_claim) == (ChatSession.Status.RUNNING, new_claim)  # the new run's, untouched


def test_start_run_hands_its_claim_to_the_executor(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_core.runtime.runs import executors

    dispatched: list[tuple[str, str | None]] = []

    class Recording:
        def dispatch(self, chat_id: str, *, user_message: str | None = None, claim: str | None = None) -> None:
            dispatched.append((chat_id, claim))

    monkeypatch.setattr(executors, "get_executor", lambda: Recording())
    session = new_chat(alice, "Chatter")
    assert services.start_run(session, user_message="hi")
    stored = ChatSession.objects.get(pk=session.pk)
    assert dispatched == [(session.chat_id, stored.run_claim)]
    assert len(stored.run_claim) == 32
