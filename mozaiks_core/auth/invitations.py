"""Invitations: invite by email, accept (new or existing account), revoke, resend.

The token travels only in the emailed link; the database keeps its SHA-256, so a database leak
does not hand out memberships. Accepting requires the invitee to hold the invited address.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mozaiks_core.auth.limits import SEATS, guard_addition
from mozaiks_core.auth.models import Invitation, Membership, Organization
from mozaiks_core.auth.services import ActionRefused, parse_id, require_manager, validate_email_address

SESSION_INVITATION_KEY = "mozaiks_invitation_token"


def hash_token(token: str) -> str:
    """The stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _count_invitation(organization: Organization) -> None:
    """Allow ``MOZAIKS_INVITATIONS_PER_HOUR`` emails per organization and hour, so nobody spams through us."""
    limit = int(getattr(settings, "MOZAIKS_INVITATIONS_PER_HOUR", 50))
    key = f"mozaiks:invitations:{organization.pk}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=3600)
        sent = 1
    if sent > limit:
        raise ActionRefused(
            "RATE_LIMITED", f"This organization sent {limit} invitations in the last hour; try again later.", 429
        )


def invitation_days() -> int:
    """How long an invitation stays valid (``MOZAIKS_INVITATION_DAYS``, default 7)."""
    return int(getattr(settings, "MOZAIKS_INVITATION_DAYS", 7))


def accept_url(token: str, request: HttpRequest | None = None) -> str:
    """The absolute link that accepts the invitation."""
    path = reverse("mozaiks_auth:invitation_accept", args=[token])
    if request is not None:
        return request.build_absolute_uri(path)
    return getattr(settings, "MOZAIKS_SITE_URL", "http://localhost:8000").rstrip("/") + path


def _send(invitation: Invitation, token: str, request: HttpRequest | None) -> None:
    context = {
        "invitation": invitation,
        "organization_name": invitation.organization.name,
        "inviter": getattr(invitation.invited_by, "email", "") or "A teammate",
        "accept_url": accept_url(token, request),
        "expires_at": invitation.expires_at,
    }
    subject = render_to_string("mozaiks_auth/email/invitation_subject.txt", context).strip()
    body = render_to_string("mozaiks_auth/email/invitation_message.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [invitation.email]))


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation.token_hash = hash_token(token)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=invitation_days())
    return token


@transaction.atomic
def invite_member(
    actor: Membership, *, email: Any, role: Any = Membership.Role.MEMBER, request: HttpRequest | None = None
) -> Invitation:
    """Invite ``email`` to the actor's organization with ``role`` and email them the link."""
    require_manager(actor)
    organization = actor.organization
    if organization.personal:
        raise ActionRefused(
            "PERSONAL_ORGANIZATION", "A personal workspace has one member; create a team organization to invite people."
        )
    address = validate_email_address(email)
    if role not in Membership.Role.values:
        raise ActionRefused("ROLE_INVALID", f"Unknown role {str(role)[:40]!r}; use owner, admin or member.")
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise ActionRefused("OWNER_REQUIRED", "Only an owner can invite another owner.", 403)
    if Membership.objects.filter(organization=organization, user__email__iexact=address).exists():
        raise ActionRefused("ALREADY_MEMBER", f"{address} is already a member of {organization.name}.", 409)
    now = timezone.now()
    Invitation.objects.filter(
        organization=organization, email=address, accepted_at=None, revoked_at=None
    ).update(revoked_at=now)
    guard_addition(organization, SEATS)  # after revoking the address's old invitation: re-inviting takes no seat
    _count_invitation(organization)
    invitation = Invitation(organization=organization, email=address, role=role, invited_by=actor.user)
    token = _new_token(invitation)
    invitation.save()
    _send(invitation, token, request)
    return invitation


def _pending(actor: Membership, invitation_id: Any) -> Invitation:
    require_manager(actor)
    invitation = Invitation.objects.filter(organization=actor.organization, pk=parse_id(invitation_id)).first()
    if invitation is None:
        raise ActionRefused("NOT_FOUND", "No such invitation in this organization.", 404)
    if invitation.accepted_at:
        raise ActionRefused("INVITATION_USED", "This invitation was already accepted.", 409)
    return invitation


@transaction.atomic
def revoke_invitation(actor: Membership, invitation_id: Any) -> Invitation:
    """Revoke a pending invitation so its link stops working."""
    invitation = _pending(actor, invitation_id)
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


@transaction.atomic
def resend_invitation(actor: Membership, invitation_id: Any, *, request: HttpRequest | None = None) -> Invitation:
    """Email a fresh link (the old one stops working) and restart the expiry clock."""
    invitation = _pending(actor, invitation_id)
    _count_invitation(actor.organization)
    invitation.revoked_at = None
    token = _new_token(invitation)
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "revoked_at"])
    _send(invitation, token, request)
    return invitation


def find_invitation(token: Any) -> Invitation:
    """The invitation for a link token, refused with a precise reason when it cannot be used."""
    text = str(token or "")
    invitation = None
    if 20 <= len(text) <= 100:
        invitation = Invitation.objects.select_related("organization").filter(token_hash=hash_token(text)).first()
    if invitation is None:
        raise ActionRefused("INVITATION_INVALID", "This invitation link is not valid; ask for a new invitation.", 404)
    status = invitation.status
    if status == "accepted":
        raise ActionRefused("INVITATION_USED", "This invitation was already used; sign in to reach it.", 410)
    if status == "revoked":
        raise ActionRefused("INVITATION_REVOKED", "This invitation was withdrawn; ask for a new one.", 410)
    if status == "expired":
        raise ActionRefused("INVITATION_EXPIRED", "This invitation has expired; ask for a new one.", 410)
    return invitation


def _verified_emails(user: Any) -> set[str]:
    from allauth.account.models import EmailAddress

    addresses = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return {email.lower() for email in addresses}


@transaction.atomic
def accept_invitation(token: Any, user: Any) -> Membership:
    """Join the organization with the invited role; the user must own the invited address (verified)."""
    invitation = find_invitation(token)
    invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ActionRefused("INVITATION_USED", "This invitation was already used.", 410)
    if invitation.email.lower() not in _verified_emails(user):
        raise ActionRefused(
            "INVITATION_OTHER_EMAIL",
            "This invitation was sent to another email address; sign in with that address (verified) to accept it.",
            403,
        )
    membership, _created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    # The pending seat became a member: still within the limit unless the plan shrank since the invitation.
    guard_addition(invitation.organization, SEATS, adding=0)
    return membership


def pending_invitations(organization: Organization) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first."""
    return [invitation for invitation in organization.invitations.all() if invitation.status == "pending"]
