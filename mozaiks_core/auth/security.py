"""django-ninja authentication: session (with CSRF) or ``Authorization: Bearer <token>``.

The bearer token is an API key (``mzk_...``) or an execution token (a JWT). Each class attaches
a :class:`~mozaiks_core.auth.caller.Caller` to the request; endpoints use ``auth=api_auth`` and
:func:`~mozaiks_core.auth.caller.get_caller`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from mozaiks_core.auth.api_keys import KEY_PREFIX, APIKeyError, authenticate_api_key
from mozaiks_core.auth.caller import ORG_HEADER, Caller, build_caller
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import MANAGER_ROLES
from mozaiks_core.auth.tokens import ExecutionTokenError, verify_execution_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionCallerAuth(SessionAuth):
    """Signed-in browser session; CSRF is enforced for unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = super().authenticate(request, key)
        if not user:
            return None
        caller = build_caller(request, user, "session")
        if caller is None:
            raise HttpError(403, "X-Mozaiks-Organization names an organization you are not a member of.")
        request.caller = caller  # type: ignore[attr-defined]
        return caller


def _api_key_caller(request: HttpRequest, token: str) -> Caller:
    try:
        api_key = authenticate_api_key(token)
    except APIKeyError as error:
        raise HttpError(401, str(error)) from None
    creator = api_key.created_by
    membership = (
        Membership.objects.filter(user=creator, organization=api_key.organization).first()
        if creator is not None and creator.is_active
        else None
    )
    if membership is None:
        raise HttpError(401, "The API key's creator no longer belongs to its organization; create a new key.")
    header = request.META.get(ORG_HEADER)
    if header and header not in {str(api_key.organization_id), api_key.organization.slug}:
        raise HttpError(403, "This API key belongs to another organization than X-Mozaiks-Organization names.")
    scopes = tuple(api_key.scopes or ())
    if request.method not in SAFE_METHODS and "write" not in scopes:
        raise HttpError(403, "This API key is read-only; create a key with the 'write' scope.")
    if request.method in SAFE_METHODS and "read" not in scopes and "write" not in scopes:
        raise HttpError(403, "This API key lacks the 'read' scope.")
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


def _execution_caller(request: HttpRequest, token: str) -> Caller:
    try:
        claims = verify_execution_token(token)
    except ExecutionTokenError as error:
        raise HttpError(401, error.message) from None
    user: Any = get_user_model().objects.filter(pk=claims.user_id, is_active=True).first()
    caller = build_caller(request, user, "execution_token", claims) if user is not None else None
    if caller is None:
        raise HttpError(401, "The execution token's user or organization membership no longer exists.")
    # The token travels in WebSocket URLs (and so in logs): it runs chats, it never manages the organization.
    return replace(caller, role=Membership.Role.MEMBER) if caller.role in MANAGER_ROLES else caller


class BearerCallerAuth(HttpBearer):
    """``Authorization: Bearer <API key>`` (``mzk_...``) or ``Bearer <execution token>`` (JWT)."""

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        if token.startswith(KEY_PREFIX):
            caller = _api_key_caller(request, token)
        elif token.count(".") == 2:
            caller = _execution_caller(request, token)
        else:
            return None
        if caller is not None:
            request.caller = caller  # type: ignore[attr-defined]
            request.user = caller.user
        return caller


api_auth = [BearerCallerAuth(), SessionCallerAuth()]
