"""Actions on a user's chat history: titles, rename, soft delete and restore, retry after a failure.

Kept apart from :mod:`mozaiks_core.runtime.services` (running chats) because these change how a
chat is listed, not how it runs; the chat pages and the API call them alike. Every action takes
the chat as its owner sees it: a chat of another user or organization is never found (a 404).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession
from mozaiks_core.runtime.runs.config import PROCESS_ID

# Titles are stored at most this long (longer input is cut and ends with "…"); they are plain
# text, escaped wherever they are shown.
TITLE_MAX_LENGTH = 120
RETRYABLE_STATUSES = (ChatSession.Status.FAILED, ChatSession.Status.INTERRUPTED)


def clean_title(text: Any) -> str:
    """One line of at most :data:`TITLE_MAX_LENGTH` characters (whitespace collapsed, control characters dropped)."""
    line = " ".join("".join(ch for ch in str(text) if ch.isprintable() or ch.isspace()).split())
    return line if len(line) <= TITLE_MAX_LENGTH else line[:TITLE_MAX_LENGTH - 1].rstrip() + "…"


def owned_chats(user: Any, organization: Any, app_id: str) -> QuerySet[ChatSession]:
    """The chats ``user`` may manage in ``organization`` (deleted ones included, for restore)."""
    return ChatSession.objects.filter(user=user, organization=organization, app_id=app_id)


def history(user: Any, organization: Any, app_id: str, query: str = "") -> QuerySet[ChatSession]:
    """The user's chats in the active organization, most recent activity first, deleted ones hidden."""
    chats = owned_chats(user, organization, app_id).filter(deleted_at__isnull=True)
    if query:
        chats = chats.filter(Q(title__icontains=query) | Q(workflow__icontains=query) | Q(chat_id__startswith=query))
    return chats.order_by(F("last_activity_at").desc(), "-pk")


def title_from_answer(session: ChatSession, response: Any) -> None:
    """Name an untitled chat after the user's first answer (a message, or a form's first text value)."""
    if session.title:
        return
    text = response.get("text") if isinstance(response, dict) else response
    if isinstance(response, dict) and not isinstance(text, str):
        text = next((value for value in response.values() if isinstance(value, str) and value.strip()), "")
    if isinstance(text, str) and text.strip():
        title = clean_title(text)
        if ChatSession.objects.filter(pk=session.pk, title="").update(title=title):
            session.title = title


def display_title(session: ChatSession) -> str:
    """What the history shows: the title, else the workflow's first output, else its display name."""
    if session.title:
        return session.title
    bundle = services.get_bundle(session.workflow)
    first_output = bundle.orchestrator.initial_message_to_user if bundle is not None else None
    return clean_title(first_output) if first_output else services.workflow_display(session.workflow)[0]


def rename_chat(session: ChatSession, title: str) -> str:
    """Give the chat a title (cut to :data:`TITLE_MAX_LENGTH`); an empty title is refused."""
    cleaned = clean_title(title)
    if not cleaned:
        raise services.ChatError("TITLE_REQUIRED", "A chat title cannot be empty; type a few words.", 400,
                                 {"field": "title"})
    ChatSession.objects.filter(pk=session.pk).update(title=cleaned)
    session.title = cleaned
    return cleaned


def delete_chat(session: ChatSession) -> None:
    """Hide the chat from the history (soft: :func:`restore_chat` brings it back); a live run is cancelled."""
    if session.is_active:
        services.cancel_chat(session)
    ChatSession.objects.filter(pk=session.pk).update(deleted_at=timezone.now())


def restore_chat(session: ChatSession) -> None:
    """Undo :func:`delete_chat`."""
    ChatSession.objects.filter(pk=session.pk).update(deleted_at=None)


def retry_chat(session: ChatSession) -> None:
    """A new run on the same chat after a failed one: the history is kept and the run resumes from it.

    A chat whose run is live is refused (409), as is one that did not fail.
    """
    services.reap_stale_runs(chat_ids=[session.chat_id])
    session.refresh_from_db(fields=["status"])
    if session.status in ChatSession.ACTIVE_STATUSES:
        raise services.ChatError("RUN_IN_PROGRESS", "This chat's run is still working, so there is nothing to "
                                 "retry; wait for it to finish, or cancel it first.", 409)
    if session.status not in RETRYABLE_STATUSES:
        raise services.ChatError("NOTHING_TO_RETRY", f"Only a chat whose run failed can be retried; this one is "
                                 f"{session.get_status_display().lower()}. Start a new chat instead.", 409)
    from mozaiks_core.runtime.runs.executors import get_executor

    claim = services.new_run_claim()
    with transaction.atomic():
        claimed = ChatSession.objects.filter(pk=session.pk, status__in=RETRYABLE_STATUSES).update(
            status=ChatSession.Status.RUNNING, runner=PROCESS_ID, run_claim=claim, heartbeat_at=timezone.now(),
            error_code="", last_activity_at=timezone.now())
        if not claimed:
            raise services.ChatError("RUN_IN_PROGRESS", "Another retry started this chat a moment ago.", 409)
        session.status, session.run_claim = ChatSession.Status.RUNNING, claim
        get_executor().dispatch(session.chat_id, user_message=None, claim=claim)
