"""django-ninja authentication: session (with CSRF) or ``Authorization: Bearer <token>``.

Each class attaches a :class:`~mozaiks_core.auth.caller.Caller` to the request; endpoints use
``auth=api_auth`` and :func:`~mozaiks_core.auth.caller.get_caller`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from mozaiks_core.auth.caller import Caller, build_caller
from mozaiks_core.auth.tokens import ExecutionTokenError, verify_execution_token


class SessionCallerAuth(SessionAuth):
    """Signed-in browser session; CSRF is enforced for unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = super().authenticate(request, key)
        if not user:
            return None
        caller = build_caller(request, user, "session")
        if caller is not None:
            request.caller = caller  # type: ignore[attr-defined]
        return caller


class BearerCallerAuth(HttpBearer):
    """``Authorization: Bearer <execution token>``."""

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        if token.count(".") != 2:
            return None
        try:
            claims = verify_execution_token(token)
        except ExecutionTokenError:
            return None
        user: Any = get_user_model().objects.filter(pk=claims.user_id, is_active=True).first()
        if user is None:
            return None
        caller = build_caller(request, user, "execution_token", claims)
        if caller is not None:
            request.caller = caller  # type: ignore[attr-defined]
            request.user = user
        return caller


api_auth = [BearerCallerAuth(), SessionCallerAuth()]
