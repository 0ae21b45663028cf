"""The heartbeats a worker writes for the runs it holds but has not started."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.runs import queued as queued_runs
from tests.runtime.transport.conftest import new_chat

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_chat_of_a_run_task_is_its_first_argument_or_its_chat_id_keyword() -> None:
    assert queued_runs.chat_of(["abc", None], {}) == "abc"
    assert queued_runs.chat_of([], {"chat_id": "def", "user_message": "hi"}) == "def"
    assert queued_runs.chat_of(None, None) is None


def test_only_held_chats_that_are_still_claimed_get_a_heartbeat(alice: Any) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    queued, cancelled, other = (new_chat(alice, "Chatter") for _ in range(3))
    ChatSession.objects.filter(pk__in=[queued.pk, other.pk]).update(status="running", heartbeat_at=long_ago)
    ChatSession.objects.filter(pk=cancelled.pk).update(status="cancelled", heartbeat_at=long_ago)
    for chat in (queued, cancelled):
        queued_runs.hold(chat.chat_id)
    try:
        assert queued_runs.beat() == 1
    finally:
        for chat in (queued, cancelled):
            queued_runs.release(chat.chat_id)

    beats = dict(ChatSession.objects.values_list("chat_id", "heartbeat_at"))
    assert beats[queued.chat_id] > long_ago
    assert beats[cancelled.chat_id] == beats[other.chat_id] == long_ago
    assert queued_runs.held() == []
