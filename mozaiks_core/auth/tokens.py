"""Execution tokens: short-lived JWTs that let one user run one workflow chat.

Signed with ``MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY`` (RS256/ES256, public half published at
``/.well-known/jwks.json``), else ``MOZAIKS_EXECUTION_TOKEN_KEY`` (HS256), else a key derived
from ``SECRET_KEY`` and a salt, so there is never a literal default. The runtime checks every
claim against the WebSocket path with :func:`assert_claims_match`.

A token names the membership it acts with (``mid``: a member removed and invited back has a new
one) and what minted it: ``sid`` (the signed-in session's key, encrypted: the token travels
in URLs and its claims are readable) or ``key`` (the API key's id). Both are checked at every use
(:mod:`mozaiks_core.auth.liveness`), so signing out or revoking the key ends the token.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from mozaiks_core.auth.keys import SigningKey, build_signing_key

TOKEN_USE = "execution"
AUDIENCE = "mozaiks-runtime"
ISSUER = "mozaiks-core"
MIN_MINUTES, MAX_MINUTES = 1, 60
_REQUIRED = ["sub", "organization", "app_id", "chat_id", "workflow", "iat", "exp", "jti", "token_use"]


class ExecutionTokenError(Exception):
    """The token is malformed, forged, expired, for another audience or another chat; ``code`` says which.

    Codes: ``TOKEN_INVALID``, ``TOKEN_EXPIRED``, ``TOKEN_AUDIENCE``, ``TOKEN_MISMATCH``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ExecutionClaims:
    """The verified claims of an execution token."""

    user_id: str
    organization_id: str
    app_id: str
    chat_id: str
    workflow: str
    capability: str
    plan: str
    issued_at: int
    expires_at: int
    jti: str
    session_key: str = ""
    api_key_id: int | None = None
    membership_id: int | None = None


def current_signing_key() -> SigningKey:
    """The key (and algorithm) execution tokens are signed with under the current settings."""
    return build_signing_key(
        getattr(settings, "MOZAIKS_EXECUTION_TOKEN_KEY", "") or "",
        getattr(settings, "MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY", "") or "",
        settings.SECRET_KEY,
    )


def _session_sealer() -> Fernet:
    """Encrypts the minting session's key into the ``sid`` claim (a key derived from ``SECRET_KEY``)."""
    digest = hashlib.sha256(b"mozaiks.execution-token.sid.v1:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def token_audience() -> str:
    """The audience execution tokens are issued for and checked against."""
    return getattr(settings, "MOZAIKS_EXECUTION_TOKEN_AUDIENCE", "") or AUDIENCE


def token_lifetime_seconds() -> int:
    """The configured lifetime, clamped to 1–60 minutes."""
    minutes = int(getattr(settings, "MOZAIKS_EXECUTION_TOKEN_MINUTES", 15))
    return max(MIN_MINUTES, min(MAX_MINUTES, minutes)) * 60


def issue_execution_token(
    *,
    user_id: Any,
    organization_id: Any,
    app_id: str,
    chat_id: str,
    workflow: str,
    capability: str = "",
    plan: str = "",
    session_key: str = "",
    api_key_id: int | None = None,
    membership_id: int | None = None,
) -> str:
    """Sign a token bound to this user, organization, app, chat and workflow.

    ``session_key`` or ``api_key_id`` name the credential that asked for it, ``membership_id`` the
    membership it acts with; the token dies with either.
    """
    key = current_signing_key()
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": token_audience(),
        "sub": str(user_id),
        "organization": str(organization_id),
        "app_id": app_id,
        "chat_id": chat_id,
        "workflow": workflow,
        "capability": capability or workflow,
        "plan": plan,
        "iat": now,
        "exp": now + token_lifetime_seconds(),
        "jti": uuid.uuid4().hex,
        "token_use": TOKEN_USE,
    }
    if session_key:
        claims["sid"] = _session_sealer().encrypt(session_key.encode()).decode()
    if api_key_id is not None:
        claims["key"] = int(api_key_id)
    if membership_id is not None:
        claims["mid"] = int(membership_id)
    return jwt.encode(claims, key.signing_key, algorithm=key.algorithm, headers={"kid": key.kid})


def verify_execution_token(token: str, *, audience: str | None = None) -> ExecutionClaims:
    """Verify signature, algorithm, expiry, issuer, audience and token use.

    Raises :class:`ExecutionTokenError` with a code the caller can map to a close code or status.
    """
    key = current_signing_key()
    try:
        claims = jwt.decode(
            token,
            key.verification_key,
            algorithms=[key.algorithm],
            audience=audience or token_audience(),
            issuer=ISSUER,
            options={"require": _REQUIRED},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise ExecutionTokenError("TOKEN_EXPIRED", "The execution token has expired; launch the chat again.") from None
    except jwt.InvalidAudienceError:
        raise ExecutionTokenError("TOKEN_AUDIENCE", "The execution token is not meant for this runtime.") from None
    except jwt.PyJWTError as error:
        raise ExecutionTokenError("TOKEN_INVALID", f"The execution token is invalid: {error}.") from None
    if claims.get("token_use") != TOKEN_USE:
        raise ExecutionTokenError("TOKEN_INVALID", "The token is not an execution token.")
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > MAX_MINUTES * 60 or lifetime <= 0:
        raise ExecutionTokenError("TOKEN_INVALID", "The execution token's lifetime is outside 1–60 minutes.")
    session_key = ""
    if claims.get("sid"):
        try:
            session_key = _session_sealer().decrypt(str(claims["sid"]).encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise ExecutionTokenError("TOKEN_INVALID", "The execution token's session claim is invalid.") from None
    api_key_id, membership_id = claims.get("key"), claims.get("mid")
    if not all(value is None or isinstance(value, int) for value in (api_key_id, membership_id)):
        raise ExecutionTokenError("TOKEN_INVALID", "The execution token's key or membership claim is invalid.")
    return ExecutionClaims(
        user_id=str(claims["sub"]),
        organization_id=str(claims["organization"]),
        app_id=str(claims["app_id"]),
        chat_id=str(claims["chat_id"]),
        workflow=str(claims["workflow"]),
        capability=str(claims.get("capability", "")),
        plan=str(claims.get("plan", "")),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        jti=str(claims["jti"]),
        session_key=session_key,
        api_key_id=api_key_id,
        membership_id=membership_id,
    )


def assert_claims_match(
    claims: ExecutionClaims, *, user_id: Any, app_id: str, chat_id: str, workflow: str
) -> None:
    """Raise ``ExecutionTokenError("TOKEN_MISMATCH")`` unless the token was issued for exactly this chat.

    The runtime calls this with the values from the WebSocket path before accepting a socket.
    """
    expected = {"user_id": str(user_id), "app_id": app_id, "chat_id": chat_id, "workflow": workflow}
    for field, value in expected.items():
        if getattr(claims, field) != value:
            raise ExecutionTokenError(
                "TOKEN_MISMATCH", f"The execution token was issued for another {field.replace('_id', '')}."
            )


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The JSON Web Key Set of the public verification key (empty for HS256: nothing to publish)."""
    key = current_signing_key()
    return {"keys": [key.public_jwk] if key.public_jwk else []}
