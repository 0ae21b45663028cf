"""The chat history as its owner manages it: titles, last activity, organization scope, rename,
delete and undo, retry; and what a stranger gets when trying the same (404)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from mozaiks_core.runtime import history
from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.runs.writer import EventRow, WriteEntry, _commit
from tests.chat.factories import make_chat, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Any:
    return make_user("alice@example.com")


@pytest.fixture
def alice_client(client: Client, alice: Any) -> Client:
    client.force_login(alice)
    return client


def test_a_10000_character_title_with_markup_is_stored_cut_and_shown_escaped(alice_client: Client, alice: Any) -> None:
    chat = make_chat(alice)
    title = "<script>alert(1)</script><b>bold</b> " + "x" * 10_000
    alice_client.post(f"/chat/{chat.chat_id}/rename/", {"title": title})
    stored = ChatSession.objects.get(pk=chat.pk).title
    assert len(stored) == history.TITLE_MAX_LENGTH
    assert stored.startswith("<script>alert(1)</script>")
    assert stored.endswith("…")
    html = alice_client.get(f"/chat/{chat.chat_id}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_an_empty_title_is_refused_with_a_message(alice_client: Client, alice: Any) -> None:
    chat = make_chat(alice, title="Kept")
    page = alice_client.post(f"/chat/{chat.chat_id}/rename/", {"title": "   "}, follow=True).content.decode()
    assert "A chat title cannot be empty" in page
    assert ChatSession.objects.get(pk=chat.pk).title == "Kept"


@pytest.mark.parametrize("action", ["rename", "delete", "restore", "cancel", "retry"])
def test_another_users_chat_is_a_404_for_every_action(alice_client: Client, action: str) -> None:
    mallory_chat = make_chat(make_user("mallory@example.com"), title="Not yours", status="failed")
    response = alice_client.post(f"/chat/{mallory_chat.chat_id}/{action}/", {"title": "Mine now"})
    assert response.status_code == 404
    after = ChatSession.objects.get(pk=mallory_chat.pk)
    assert (after.title, after.deleted_at, after.status) == ("Not yours", None, "failed")


def test_a_chat_of_another_organization_is_a_404_until_the_user_switches_to_it(alice_client: Client,
                                                                               alice: Any) -> None:
    team = create_organization(name="Other Co", owner=alice)
    team_chat = make_chat(alice, organization=team, title="Team chat")
    assert alice_client.post(f"/chat/{team_chat.chat_id}/delete/").status_code == 404
    assert "Team chat" not in alice_client.get("/chat/").content.decode(), "history shows the active organization"
    alice_client.post("/orgs/switch/", {"organization": team.slug})
    assert "Team chat" in alice_client.get("/chat/").content.decode()


def test_delete_hides_the_chat_and_undo_brings_it_back(alice_client: Client, alice: Any) -> None:
    chat = make_chat(alice, title="Quarterly plan")
    deleted = alice_client.post(f"/chat/{chat.chat_id}/delete/", follow=True)
    html = deleted.content.decode()
    assert "“Quarterly plan” was deleted." in html
    assert 'class="mzc-history"' not in html
    assert alice_client.get(f"/chat/{chat.chat_id}/").status_code == 404
    alice_client.post(f"/chat/{chat.chat_id}/restore/")
    assert "Quarterly plan" in alice_client.get("/chat/").content.decode()


def test_retrying_a_live_run_is_refused_with_a_clear_message(alice_client: Client, alice: Any) -> None:
    chat = make_chat(alice, status="running")
    ChatSession.objects.filter(pk=chat.pk).update(heartbeat_at=timezone.now())
    page = alice_client.post(f"/chat/{chat.chat_id}/retry/", follow=True).content.decode()
    assert "still working, so there is nothing to retry" in page
    assert ChatSession.objects.get(pk=chat.pk).status == "running"


def test_retrying_a_completed_chat_says_to_start_a_new_one(alice: Any) -> None:
    chat = make_chat(alice, status="completed")
    with pytest.raises(history.services.ChatError, match="Start a new chat instead"):
        history.retry_chat(chat)


def test_untitled_chats_read_as_their_first_answer_or_the_workflows_first_output(alice: Any) -> None:
    chat = make_chat(alice, workflow="ProductLaunch", title="")
    assert history.display_title(chat) == "Welcome! Let's plan your product launch. First, a short brief."
    history.title_from_answer(chat, {"product_name": "Rocket", "budget": 5000})
    assert ChatSession.objects.get(pk=chat.pk).title == "Rocket"
    history.title_from_answer(chat, {"text": "Something later"})
    assert ChatSession.objects.get(pk=chat.pk).title == "Rocket", "the first answer names the chat"


def test_heartbeats_do_not_count_as_activity_but_events_do(alice: Any) -> None:
    chat = make_chat(alice, status="running")
    idle_since = timezone.now() - timedelta(minutes=5)
    ChatSession.objects.filter(pk=chat.pk).update(last_activity_at=idle_since)
    _commit([WriteEntry(chat.pk, chat.chat_id, heartbeat=True)])
    after_heartbeat = ChatSession.objects.get(pk=chat.pk)
    assert after_heartbeat.last_activity_at == idle_since
    assert after_heartbeat.heartbeat_at > idle_since
    _commit([WriteEntry(chat.pk, chat.chat_id, event=EventRow(
        chat.pk, chat.last_seq + 1, "chat.text", '{"content": "hi"}', uuid.uuid4().hex, "", "run", timezone.now()))])
    assert ChatSession.objects.get(pk=chat.pk).last_activity_at > idle_since


def test_the_history_lists_the_most_recent_activity_first(alice_client: Client, alice: Any) -> None:
    old = make_chat(alice, title="Older activity")
    new = make_chat(alice, title="Newer activity")
    ChatSession.objects.filter(pk=new.pk).update(last_activity_at=timezone.now() - timedelta(days=2))
    ChatSession.objects.filter(pk=old.pk).update(last_activity_at=timezone.now() - timedelta(hours=1))
    html = alice_client.get("/chat/").content.decode()
    assert html.index("Older activity") < html.index("Newer activity")
    assert Membership.objects.filter(user=alice).count() == 1
