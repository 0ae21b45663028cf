"""Runs started by domain-event reactions: no socket, same checks, same persisted history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.runtime.models import ChatEvent, ChatSession
from mozaiks_core.runtime.services import ChatError, start_background_run

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reaction_starts_a_userdriven_capability_whose_events_are_persisted(alice: Any) -> None:
    organization = await database_sync_to_async(ensure_personal_organization)(alice)
    session = await database_sync_to_async(start_background_run)(
        capability_id="Chatter", organization=organization, user=alice, initial_message="hello from an event",
        context={"event": {"event_type": "domain.tasks.task_created"}})
    assert session.title == "Chatter: domain.tasks.task_created"
    for _ in range(100):
        texts = await database_sync_to_async(lambda: list(
            ChatEvent.objects.filter(chat=session, type="chat.text").values_list("payload", flat=True)))()
        if len(texts) >= 2:
            break
        await asyncio.sleep(0.05)
    assert texts[0]["content"] == "hello from an event"
    assert any(payload.get("agent") == "ChatterAgent" for payload in texts[1:])
    stored = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert stored.user_id == alice.pk
    assert stored.organization_id == organization.pk


async def test_an_unknown_capability_or_a_missing_actor_is_refused_precisely(alice: Any) -> None:
    organization = await database_sync_to_async(ensure_personal_organization)(alice)
    with pytest.raises(ChatError) as unknown:
        await database_sync_to_async(start_background_run)(capability_id="Nope", organization=organization, user=alice)
    assert (unknown.value.code, unknown.value.status) == ("CAPABILITY_NOT_FOUND", 404)
    with pytest.raises(ChatError) as anonymous:
        await database_sync_to_async(start_background_run)(capability_id="Chatter", organization=organization,
                                                           user=None)
    assert anonymous.value.code == "USER_REQUIRED"
    assert not await database_sync_to_async(ChatSession.objects.exists)()
