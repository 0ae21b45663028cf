"""Execution tokens: short-lived JWTs that let one user run one workflow chat.

Signed with ``MOZAIKS_EXECUTION_TOKEN_KEY`` (HS256) or, when unset, with a key derived from
``SECRET_KEY`` and a salt, so there is never a literal default. The runtime checks every claim
against the WebSocket path.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings

TOKEN_USE = "execution"
AUDIENCE = "mozaiks-runtime"
ISSUER = "mozaiks-core"
_ALGORITHM = "HS256"
_DERIVATION_SALT = b"mozaiks.execution-token.v1"
MIN_MINUTES, MAX_MINUTES = 1, 60


class ExecutionTokenError(Exception):
    """The token is malformed, forged, expired or not an execution token; ``code`` says which."""

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


def _signing_key() -> str:
    configured = getattr(settings, "MOZAIKS_EXECUTION_TOKEN_KEY", "")
    if configured:
        return configured
    return hmac.new(settings.SECRET_KEY.encode(), _DERIVATION_SALT, hashlib.sha256).hexdigest()


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
) -> str:
    """Sign a token bound to this user, organization, app, chat and workflow."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
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
    return jwt.encode(claims, _signing_key(), algorithm=_ALGORITHM)


def verify_execution_token(token: str) -> ExecutionClaims:
    """Verify signature, expiry, audience and token use; raise :class:`ExecutionTokenError` otherwise."""
    required = ["sub", "organization", "app_id", "chat_id", "workflow", "iat", "exp", "jti", "token_use"]
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": required},
        )
    except jwt.ExpiredSignatureError:
        raise ExecutionTokenError("TOKEN_EXPIRED", "The execution token has expired; launch the chat again.") from None
    except jwt.InvalidAudienceError:
        raise ExecutionTokenError("TOKEN_INVALID", "The execution token is not meant for this runtime.") from None
    except jwt.PyJWTError as error:
        raise ExecutionTokenError("TOKEN_INVALID", f"The execution token is invalid: {error}.") from None
    if claims.get("token_use") != TOKEN_USE:
        raise ExecutionTokenError("TOKEN_INVALID", "The token is not an execution token.")
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
    )
