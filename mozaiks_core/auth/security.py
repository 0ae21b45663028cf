"""django-ninja authentication: session (with CSRF) or ``Authorization: Bearer <token>``.

The bearer token is an API key (``mzk_...``), an execution token or a client token (JWTs). Each class attaches
a :class:`~mozaiks_core.auth.caller.Caller` to the request; endpoints use ``auth=api_auth`` and
:func:`~mozaiks_core.auth.caller.get_caller`. ``api_auth`` refuses execution tokens (403
``TOKEN_SCOPE``): a token opens only its chat's runtime surface, whose routes declare
``auth=chat_surface_auth`` and look the chat up through the token's claims. Keys and tokens are
checked at every use by :func:`~mozaiks_core.auth.liveness.check_credential`. Refusals raise
:class:`~mozaiks_core.auth.errors.CredentialRefused` (``{error, message}`` bodies); a database
that cannot be reached while a credential is checked answers 503 with ``Retry-After``, so
clients retry instead of discarding a valid key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from mozaiks_core.auth.api_keys import KEY_PREFIX, APIKeyError, authenticate_api_key
from mozaiks_core.auth.caller import ORG_HEADER, Caller, build_caller
from mozaiks_core.auth.client_tokens import client_token_caller, is_client_token
from mozaiks_core.auth.csrf_json import same_origin_json
from mozaiks_core.auth.errors import CredentialRefused, database_unavailable
from mozaiks_core.auth.liveness import Credential, CredentialRevoked, check_credential, execution_credential
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import MANAGER_ROLES
from mozaiks_core.auth.tokens import ExecutionTokenError, verify_execution_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
logger = logging.getLogger(__name__)


@contextmanager
def _database_reachable() -> Iterator[None]:
    """Turn a lost database connection during a credential check into a 503 refusal, not a 401 or 500.

    Only connection-level errors (``OperationalError``, ``InterfaceError``) count as an outage;
    any other database error is a bug and stays a 500.
    """
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        logger.warning("credential check failed: database unavailable (%s)", type(error).__name__)
        raise database_unavailable() from error


class SessionCallerAuth(SessionAuth):
    """Signed-in browser session; CSRF is enforced for unsafe methods, except a same-origin JSON
    request (:func:`~mozaiks_core.auth.csrf_json.same_origin_json`)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if same_origin_json(request):
            return request.COOKIES.get(self.param_name)
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        with _database_reachable():
            user = super().authenticate(request, key)
            if not user:
                return None
            caller = build_caller(request, user, "session")
        if caller is None:
            raise CredentialRefused(403, "NOT_A_MEMBER",
                                    "X-Mozaiks-Organization names an organization you are not a member of.")
        caller = replace(caller, session_key=getattr(getattr(request, "session", None), "session_key", None) or "")
        request.caller = caller  # type: ignore[attr-defined]
        return caller


def _api_key_caller(request: HttpRequest, token: str) -> Caller:
    try:
        api_key = authenticate_api_key(token)
    except APIKeyError as error:
        raise CredentialRefused(401, "API_KEY_INVALID", str(error)) from None
    creator = api_key.created_by
    if creator is None:
        raise CredentialRefused(401, "API_KEY_INVALID", "The API key's creator no longer exists; create a new key.")
    try:
        membership = check_credential(Credential(kind="api_key", user_id=creator.pk,
                                                 organization_id=api_key.organization_id,
                                                 issued_at=api_key.created_at, api_key_id=api_key.pk))
    except CredentialRevoked:
        raise CredentialRefused(401, "API_KEY_INVALID", "The API key's creator no longer belongs to its "
                                "organization (keys die with the membership that created them); create a new "
                                "key.") from None
    header = request.META.get(ORG_HEADER)
    if header and header not in {str(api_key.organization_id), api_key.organization.slug}:
        raise CredentialRefused(403, "API_KEY_OTHER_ORGANIZATION",
                                "This API key belongs to another organization than X-Mozaiks-Organization names.")
    scopes = tuple(api_key.scopes or ())
    if request.method not in SAFE_METHODS and "write" not in scopes:
        raise CredentialRefused(403, "SCOPE_REQUIRED",
                                "This API key is read-only; create a key with the 'write' scope.")
    if request.method in SAFE_METHODS and "read" not in scopes and "write" not in scopes:
        raise CredentialRefused(403, "SCOPE_REQUIRED", "This API key lacks the 'read' scope.")
    role = membership.role
    if role in MANAGER_ROLES and "manage" not in scopes:
        role = Membership.Role.MEMBER
    return Caller(
        user=creator,
        organization=api_key.organization,
        role=role,
        via="api_key",
        scopes=scopes,
        api_key_id=api_key.pk,
    )


def _execution_caller(request: HttpRequest, token: str, *, allowed: bool) -> Caller:
    try:
        claims = verify_execution_token(token)
    except ExecutionTokenError as error:
        raise CredentialRefused(401, error.code, error.message) from None
    if not allowed:
        raise CredentialRefused(403, "TOKEN_SCOPE", "An execution token opens only its own chat (socket, answers, "
                                "meta, export); call this endpoint with your session or an API key.")
    try:
        membership = check_credential(execution_credential(claims))
    except CredentialRevoked as revoked:
        raise CredentialRefused(401, revoked.code, revoked.message) from None
    # The token travels in WebSocket URLs (and so in logs): it runs chats, it never manages the organization.
    return Caller(user=membership.user, organization=membership.organization, role=Membership.Role.MEMBER,
                  via="execution_token", claims=claims)


class BearerCallerAuth(HttpBearer):
    """``Authorization: Bearer <API key>`` (``mzk_...``) or ``Bearer <execution token>`` (JWT).

    ``execution_tokens=False`` (``api_auth``) refuses execution tokens with 403 ``TOKEN_SCOPE``.
    """

    def __init__(self, *, execution_tokens: bool = False) -> None:
        super().__init__()
        self.execution_tokens = execution_tokens

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        with _database_reachable():
            if token.startswith(KEY_PREFIX):
                caller = _api_key_caller(request, token)
            elif token.count(".") == 2:
                caller = (client_token_caller(token) if is_client_token(token)
                          else _execution_caller(request, token, allowed=self.execution_tokens))
            else:
                return None
        if caller is not None:
            request.caller = caller  # type: ignore[attr-defined]
            request.user = caller.user
        return caller


api_auth = [BearerCallerAuth(), SessionCallerAuth()]
chat_surface_auth = [BearerCallerAuth(execution_tokens=True), SessionCallerAuth()]
"""``api_auth`` plus execution tokens: only for a chat's runtime surface (its answers, meta, export,
cancel, the session list narrowed to it) and module actions, which check the token's claims."""
