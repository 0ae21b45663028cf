"""Form actions of the chat pages: rename, delete (soft, with undo), restore, cancel and retry.

Plain POST forms (CSRF-protected, working without JavaScript) that call the history actions and
go back to the page. A chat of another user, or of another organization than the active one, is a
404: the page never confirms that such a chat exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from mozaiks_core.auth.caller import membership_for_request
from mozaiks_core.error_pages import not_found
from mozaiks_core.runtime import history, services
from mozaiks_core.workspace_info import app_id

MISSING = "There is no such chat among yours in this organization."


def _owned(request: HttpRequest, chat_id: str) -> Any:
    membership = membership_for_request(request, request.user)
    if membership is None:
        return None
    return history.owned_chats(request.user, membership.organization, app_id()).filter(chat_id=chat_id[:64]).first()


def _conversation(chat_id: str) -> HttpResponse:
    return redirect("mozaiks_chat:conversation", chat_id=chat_id)


@login_required
@require_POST
def rename(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Give the chat the submitted title."""
    chat = _owned(request, chat_id)
    if chat is None or chat.deleted_at is not None:
        return not_found(request, MISSING)
    try:
        title = history.rename_chat(chat, request.POST.get("title", ""))
    except services.ChatError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Renamed to “{title}”.")
    return redirect((request.POST.get("back") == "home" and reverse("mozaiks_chat:home")) or
                    reverse("mozaiks_chat:conversation", args=[chat.chat_id]))


@login_required
@require_POST
def delete(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Hide the chat from the history; the home page offers to undo."""
    chat = _owned(request, chat_id)
    if chat is None or chat.deleted_at is not None:
        return not_found(request, MISSING)
    history.delete_chat(chat)
    return redirect(f"{reverse('mozaiks_chat:home')}?deleted={chat.chat_id}")


@login_required
@require_POST
def restore(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Undo a delete."""
    chat = _owned(request, chat_id)
    if chat is None:
        return not_found(request, MISSING)
    history.restore_chat(chat)
    messages.success(request, f"“{history.display_title(chat)}” is back in your chats.")
    return redirect("mozaiks_chat:home")


@login_required
@require_POST
def cancel(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Stop the chat's run; its transcript stays."""
    chat = _owned(request, chat_id)
    if chat is None or chat.deleted_at is not None:
        return not_found(request, MISSING)
    if services.cancel_chat(chat):
        messages.success(request, "The chat was cancelled; its transcript is kept.")
    else:
        messages.error(request, "This chat had already ended, so there was nothing to cancel.")
    return _conversation(chat.chat_id)


@login_required
@require_POST
def retry(request: HttpRequest, chat_id: str) -> HttpResponse:
    """Start a new run on a chat whose run failed (history kept)."""
    chat = _owned(request, chat_id)
    if chat is None or chat.deleted_at is not None:
        return not_found(request, MISSING)
    try:
        history.retry_chat(chat)
    except services.ChatError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Retrying: a new run continues this chat from where it stopped.")
    return _conversation(chat.chat_id)
