"""Receivers: a personal organization for every new user; pending invitations accepted at login."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from mozaiks_core.auth.services import ActionRefused, ensure_personal_organization


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="mozaiks_personal_organization")
def create_personal_organization(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """Give each new (non-fixture) user a personal organization they own."""
    if created and not raw:
        ensure_personal_organization(instance)


@receiver(user_logged_in, dispatch_uid="mozaiks_accept_pending_invitation")
def accept_pending_invitation(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Someone who opened an invitation link while signed out joins once they sign in or sign up."""
    from mozaiks_core.auth.caller import SESSION_ORG_KEY
    from mozaiks_core.auth.invitations import SESSION_INVITATION_KEY, accept_invitation

    session = getattr(request, "session", None)
    if session is None or not session.get(SESSION_INVITATION_KEY):
        return
    token = session.pop(SESSION_INVITATION_KEY)
    try:
        membership = accept_invitation(token, user)
    except ActionRefused as error:
        messages.error(request, error.message)
        return
    session[SESSION_ORG_KEY] = membership.organization_id
    session["mozaiks_joined_via_invitation"] = True
    messages.success(request, f"You joined {membership.organization.name}.")
