"""Client tokens: short-lived JWTs a single-page client (the MozaiksAI ChatUI) holds for its user.

A client token names a user and one organization, nothing narrower: the client sends it as
``Authorization: Bearer`` on HTTP and as ``?access_token=`` on the chat socket, for every chat the
user may open in that organization. It is issued to a signed-in session (``POST
/api/auth/client-token``) and refreshed the same way or with itself before it expires. It never
manages the organization (the caller's role is capped at member), and the membership is checked at
every use with :func:`live_membership`, so a removed member's token stops working at once.

Signed with the execution-token key (:func:`~mozaiks_core.auth.tokens.current_signing_key`);
``token_use: "client"`` keeps the two kinds apart. Refusals reuse the execution-token codes
(``TOKEN_INVALID``, ``TOKEN_EXPIRED``, ``TOKEN_AUDIENCE``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.tokens import ISSUER, ExecutionTokenError, current_signing_key, token_audience

TOKEN_USE = "client"
MIN_MINUTES, MAX_MINUTES = 1, 60
_REQUIRED = ["sub", "organization", "iat", "exp", "jti", "token_use"]


@dataclass(frozen=True)
class ClientClaims:
    """The verified claims of a client token."""

    user_id: str
    organization_id: str
    issued_at: int
    expires_at: int
    jti: str


def client_token_lifetime_seconds() -> int:
    """``MOZAIKS_CLIENT_TOKEN_MINUTES`` (default 15), clamped to 1–60 minutes."""
    minutes = int(getattr(settings, "MOZAIKS_CLIENT_TOKEN_MINUTES", 15))
    return max(MIN_MINUTES, min(MAX_MINUTES, minutes)) * 60


def issue_client_token(*, user_id: Any, organization_id: Any) -> tuple[str, int]:
    """Sign a client token for this user in this organization; returns ``(token, expires_at)``."""
    key = current_signing_key()
    now = int(time.time())
    expires_at = now + client_token_lifetime_seconds()
    claims = {"iss": ISSUER, "aud": token_audience(), "sub": str(user_id), "organization": str(organization_id),
              "iat": now, "exp": expires_at, "jti": uuid.uuid4().hex, "token_use": TOKEN_USE}
    return jwt.encode(claims, key.signing_key, algorithm=key.algorithm, headers={"kid": key.kid}), expires_at


def is_client_token(token: str) -> bool:
    """Whether ``token`` claims to be a client token (unverified: only to pick the verifier)."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("token_use") == TOKEN_USE
    except jwt.PyJWTError:
        return False


def verify_client_token(token: str) -> ClientClaims:
    """Verify signature, algorithm, expiry, issuer, audience, use and lifetime; raises
    :class:`~mozaiks_core.auth.tokens.ExecutionTokenError` with today's codes."""
    key = current_signing_key()
    try:
        claims = jwt.decode(token, key.verification_key, algorithms=[key.algorithm], audience=token_audience(),
                            issuer=ISSUER, options={"require": _REQUIRED}, leeway=5)
    except jwt.ExpiredSignatureError:
        raise ExecutionTokenError("TOKEN_EXPIRED", "The client token has expired; get a new one from "
                                  "POST /api/auth/client-token.") from None
    except jwt.InvalidAudienceError:
        raise ExecutionTokenError("TOKEN_AUDIENCE", "The client token is not meant for this runtime.") from None
    except jwt.PyJWTError as error:
        raise ExecutionTokenError("TOKEN_INVALID", f"The client token is invalid: {error}.") from None
    if claims.get("token_use") != TOKEN_USE:
        raise ExecutionTokenError("TOKEN_INVALID", "The token is not a client token.")
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > MAX_MINUTES * 60 or lifetime <= 0:
        raise ExecutionTokenError("TOKEN_INVALID", "The client token's lifetime is outside 1–60 minutes.")
    return ClientClaims(user_id=str(claims["sub"]), organization_id=str(claims["organization"]),
                        issued_at=int(claims["iat"]), expires_at=int(claims["exp"]), jti=str(claims["jti"]))


def live_membership(claims: ClientClaims) -> Membership | None:
    """The token's membership as it is now: None when the user is gone, inactive or no longer a member."""
    user = get_user_model().objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None or not str(claims.organization_id).isdigit():
        return None
    return Membership.objects.select_related("organization", "user").filter(
        user=user, organization_id=int(claims.organization_id)).first()


def membership_for_client_token(token: str) -> tuple[ClientClaims, Membership]:
    """Verify ``token`` and its live membership; raises ``ExecutionTokenError`` (``TOKEN_INVALID`` for a
    membership that no longer exists)."""
    claims = verify_client_token(token)
    membership = live_membership(claims)
    if membership is None:
        raise ExecutionTokenError("TOKEN_INVALID", "The client token's user or organization membership no longer "
                                  "exists; sign in again.")
    return claims, membership


def client_token_caller(token: str) -> Any:
    """The :class:`~mozaiks_core.auth.caller.Caller` of a client token's HTTP request (role capped at
    member); raises :class:`~mozaiks_core.auth.errors.CredentialRefused` with today's 401 codes."""
    from mozaiks_core.auth.caller import Caller
    from mozaiks_core.auth.errors import CredentialRefused
    from mozaiks_core.auth.services import MANAGER_ROLES

    try:
        _, membership = membership_for_client_token(token)
    except ExecutionTokenError as error:
        raise CredentialRefused(401, error.code, error.message) from None
    role = Membership.Role.MEMBER if membership.role in MANAGER_ROLES else membership.role
    return Caller(user=membership.user, organization=membership.organization, role=role, via="client_token")
