"""The chat admin: filters, transcript, usage, cancel, and workflow bundles that failed to load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from django.utils import timezone

from mozaiks_core.runtime.bundles import get_registry
from mozaiks_core.runtime.models import ChatEvent, ChatSession, UsageRecord
from tests.runtime.transport.conftest import new_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(transactional_db: None) -> HttpClient:
    admin = get_user_model().objects.create_superuser(username="root@example.com", email="root@example.com",
                                                      password="pw-123456789")
    client = HttpClient()
    client.force_login(admin)
    return client


def test_the_admin_lists_filters_shows_a_transcript_with_usage_and_cancels(staff: HttpClient, alice: Any) -> None:
    chat = new_chat(alice, "Chatter")
    ChatSession.objects.filter(pk=chat.pk).update(status="waiting_input", last_seq=0, heartbeat_at=timezone.now())
    ChatEvent.objects.create(chat=chat, seq=0, type="chat.text", payload={"agent": "ChatterAgent",
                             "content": "Hello from the transcript"}, event_id="e0", created_at=timezone.now())
    UsageRecord.objects.create(chat=chat, agent="ChatterAgent", model="m", prompt_tokens=3, completion_tokens=4,
                               total_tokens=7, workflow="Chatter", user=alice,
                               organization=chat.organization, transaction_id="t0")
    listing = staff.get("/admin/mozaiks_runtime/chatsession/?status__exact=waiting_input&workflow=Chatter")
    assert listing.status_code == 200
    assert chat.chat_id in listing.content.decode()
    assert chat.chat_id not in staff.get("/admin/mozaiks_runtime/chatsession/?status__exact=completed").content.decode()
    transcript = staff.get(f"/admin/mozaiks_runtime/chatsession/{chat.pk}/transcript/").content.decode()
    assert "Hello from the transcript" in transcript
    assert "7 tokens in 1 LLM call" in transcript
    response = staff.post("/admin/mozaiks_runtime/chatsession/", {"action": "cancel_chats",
                                                                  "_selected_action": [chat.pk]})
    assert response.status_code == 302
    assert ChatSession.objects.get(pk=chat.pk).status == "cancelled"


def test_the_admin_shows_workflow_bundles_that_failed_to_load(staff: HttpClient, settings: Any,
                                                              tmp_path: Path) -> None:
    broken = tmp_path / "Broken"
    broken.mkdir()
    (broken / "orchestrator.yaml").write_text("workflow_name: Broken\norchestration_pattern: NoSuchPattern\n")
    settings.MOZAIKS_WORKFLOW_ROOTS = [*settings.MOZAIKS_WORKFLOW_ROOTS, str(tmp_path)]
    get_registry(refresh=True)
    page = staff.get("/admin/mozaiks_runtime/chatsession/").content.decode()
    assert "workflow-bundle-errors" in page
    assert "Broken" in page
