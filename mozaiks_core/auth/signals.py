"""Receivers: a personal organization for every new user; pending invitations accepted at login;
credentials that die with a membership, a role or a session (see :mod:`mozaiks_core.auth.liveness`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from mozaiks_core.auth.liveness import credentials_changed
from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.auth.services import ActionRefused, ensure_personal_organization


def announce_credentials_changed(user_id: Any, organization_id: Any, reason: str, session_key: str = "") -> None:
    """Send :data:`~mozaiks_core.auth.liveness.credentials_changed` once the current transaction commits."""
    transaction.on_commit(lambda: credentials_changed.send(
        sender=Membership, user_id=user_id, organization_id=organization_id, reason=reason,
        session_key=session_key))


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


@receiver(post_delete, sender=Membership, dispatch_uid="mozaiks_membership_ended")
def end_membership_credentials(sender: type, instance: Membership, **kwargs: Any) -> None:
    """However a membership ends (removed, left, deleted in the admin, cascaded): revoke the API keys the
    member created there, so rejoining does not revive them, and tell open sockets."""
    APIKey.objects.filter(organization_id=instance.organization_id, created_by_id=instance.user_id,
                          revoked_at__isnull=True).update(revoked_at=timezone.now())
    announce_credentials_changed(instance.user_id, instance.organization_id, "membership_ended")


@receiver(post_save, sender=Membership, dispatch_uid="mozaiks_membership_role_changed")
def announce_role_change(sender: type, instance: Membership, created: bool, raw: bool = False,
                         **kwargs: Any) -> None:
    """A changed role may no longer allow what an open socket does: have it re-checked."""
    if not created and not raw:
        announce_credentials_changed(instance.user_id, instance.organization_id, "role_changed")


@receiver(user_logged_out, dispatch_uid="mozaiks_logged_out")
def end_session_credentials(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Tokens minted by the session that signed out die with it: have their open sockets re-checked."""
    session = getattr(request, "session", None)
    if user is not None:
        # The session is flushed after this signal: name it, so sockets need not race the flush.
        announce_credentials_changed(user.pk, None, "logged_out", getattr(session, "session_key", None) or "")
