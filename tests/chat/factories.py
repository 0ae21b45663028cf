"""Typed helpers that build chats and their events for the chat-page and console tests."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from mozaiks_core.workspace_info import app_id


def make_user(email: str, password: str = "a-long-test-password-1", **extra: Any) -> Any:
    """A user with a verified primary email (so allauth lets them sign in) and a personal org."""
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(username=email.split("@")[0], email=email, password=password,
                                                **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def personal_org(user: Any) -> Any:
    """The user's personal organization (created by the accounts app on signup)."""
    return apps.get_model("mozaiks_auth", "Membership").objects.get(user=user, organization__personal=True).organization


def make_chat(user: Any, events: list[tuple[str, dict[str, Any]]] = (), **fields: Any) -> Any:
    """A chat of ``user`` with ``events`` stored as seq 0, 1, 2, ..."""
    chat_session = apps.get_model("mozaiks_runtime", "ChatSession")
    chat_event = apps.get_model("mozaiks_runtime", "ChatEvent")
    defaults = {"app_id": app_id(), "workflow": "Demo", "status": "completed", "organization": personal_org(user)}
    chat = chat_session.objects.create(user=user, **{**defaults, **fields})
    now = timezone.now()
    for seq, (event_type, payload) in enumerate(events):
        chat_event.objects.create(chat=chat, seq=seq, type=event_type, payload=payload,
                                  event_id=f"{chat.chat_id[:20]}{seq:06d}", created_at=now)
    chat.last_seq = len(events) - 1
    chat.save(update_fields=["last_seq"])
    return chat
