"""Credentials are checked at use: the one verification path of every kind of credential.

A credential was valid when it was issued; it stays usable only while

- its user is active,
- the user is a member of the organization it acts for, and joined *before* it was issued (a
  member who is removed and invited back does not revive a key or token of the old membership),
- whatever minted it is alive: the signed-in session (signed out, flushed, or its password
  changed: dead) or the API key (revoked or expired: dead).

HTTP authentication (:mod:`mozaiks_core.auth.security`), the chat socket at connect, and every
open socket (on each inbound frame, and whenever :data:`credentials_changed` fires) call
:func:`check_credential`. A new kind of credential (such as the runtime's client token) describes
itself as a :class:`Credential` and goes through the same function.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.dispatch import Signal
from django.utils.crypto import constant_time_compare

from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.auth.tokens import ExecutionClaims

MEMBERSHIP_ENDED = "MEMBERSHIP_ENDED"
TOKEN_REVOKED = "TOKEN_REVOKED"
USER_INACTIVE = "USER_INACTIVE"

credentials_changed = Signal()
"""Sent after commit when credentials of ``user_id`` may have died: ``organization_id`` (None: any),
``reason`` (``membership_ended``, ``role_changed``, ``logged_out``, ``api_key_revoked``) and, for a
sign-out, ``session_key`` (the session that ended). The runtime re-checks the user's open sockets;
a membership that ended also stops the user's runs there."""


class CredentialRevoked(Exception):
    """A credential that was valid once is not any more; ``code`` says why, ``message`` what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Credential:
    """What a credential claims, for :func:`check_credential`.

    ``kind`` is ``session``, ``api_key``, ``execution_token`` (or another kind's name);
    ``membership_id`` is the membership it was issued for (a rejoined member has another);
    ``issued_at`` is when it was issued, for credentials that do not name their membership (the
    membership must be older; None: no such check, for sessions);
    ``session_key`` names the session that minted it (for a session socket, the session itself);
    ``api_key_id`` the API key that minted it (for an API key, the key itself).
    """

    kind: str
    user_id: Any
    organization_id: Any
    membership_id: int | None = None
    issued_at: datetime | None = None
    session_key: str = ""
    api_key_id: int | None = None


def session_is_live(session_key: str, user: Any) -> bool:
    """Whether ``session_key`` is a current, unexpired session signed in as ``user`` with their current password."""
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()
    if str(data.get(SESSION_KEY, "")) != str(user.pk):
        return False
    stored_hash = data.get(HASH_SESSION_KEY) or ""
    return bool(stored_hash) and constant_time_compare(stored_hash, user.get_session_auth_hash())


def _api_key_is_live(api_key_id: int, user: Any, organization_id: Any) -> bool:
    api_key = APIKey.objects.filter(pk=api_key_id, created_by=user, organization_id=organization_id).first()
    return api_key is not None and api_key.status == "active"


def check_credential(credential: Credential) -> Membership:
    """The membership ``credential`` acts with now; raises :class:`CredentialRevoked` if it is dead.

    One query on the common path (the membership with its user and organization), one more for a
    minting session or key.
    """
    membership = (Membership.objects.select_related("organization", "user")
                  .filter(user_id=credential.user_id, organization_id=credential.organization_id).first())
    user = membership.user if membership is not None else (
        get_user_model().objects.filter(pk=credential.user_id).first())
    if user is None or not user.is_active:
        raise CredentialRevoked(USER_INACTIVE, "This account is deactivated or gone; its credentials no longer work.")
    if membership is None:
        raise CredentialRevoked(MEMBERSHIP_ENDED, "You are no longer a member of this organization; its chats and "
                                "data are closed to you. Ask an owner to invite you again.")
    earlier = (membership.pk != credential.membership_id if credential.membership_id is not None
               else credential.issued_at is not None and membership.created_at > credential.issued_at)
    if earlier:
        raise CredentialRevoked(MEMBERSHIP_ENDED, f"This {credential.kind.replace('_', ' ')} was issued for an "
                                "earlier membership of this organization, which ended; get a new one.")
    if credential.session_key and not session_is_live(credential.session_key, user):
        raise CredentialRevoked(TOKEN_REVOKED, "The session this credential came from has ended (signed out or "
                                "expired); sign in and open the chat again.")
    if credential.api_key_id is not None and credential.kind != "api_key" and not _api_key_is_live(
            credential.api_key_id, user, credential.organization_id):
        raise CredentialRevoked(TOKEN_REVOKED, "The API key this token was started with is revoked or expired; "
                                "start the chat again with a live key.")
    return membership


def credential_is_live(credential: Credential) -> bool:
    """Whether :func:`check_credential` accepts ``credential``."""
    try:
        check_credential(credential)
    except CredentialRevoked:
        return False
    return True


def issued_at(epoch_seconds: int) -> datetime:
    """A token's ``iat`` claim as an aware datetime, for :attr:`Credential.issued_at`."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


def execution_credential(claims: ExecutionClaims) -> Credential:
    """The :class:`Credential` an execution token's verified claims describe."""
    # Without a membership claim the token must postdate the membership (``iat`` has whole seconds).
    return Credential(kind="execution_token", user_id=claims.user_id, organization_id=claims.organization_id,
                      membership_id=claims.membership_id, issued_at=issued_at(claims.issued_at + 1),
                      session_key=claims.session_key, api_key_id=claims.api_key_id)


def session_fingerprint(session_key: str) -> str:
    """A stable, one-way name of a session for messages between processes (never the key itself)."""
    return hashlib.sha256(b"mozaiks.session:" + session_key.encode()).hexdigest()
