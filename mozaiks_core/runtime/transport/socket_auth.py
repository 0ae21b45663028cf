"""WebSocket authentication: the session cookie, or ``?access_token=<execution or client token>``.

An execution token's verified claims land in ``scope["execution_claims"]``, a client token's in
``scope["client_claims"]``; consumers compare them with the path. A bad token leaves the socket
anonymous, so the consumer closes it with 1008.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from django.contrib.auth import get_user_model

from mozaiks_core.auth.client_tokens import is_client_token, membership_for_client_token
from mozaiks_core.auth.tokens import ExecutionTokenError, verify_execution_token
from mozaiks_core.db.async_db import db_call


@db_call
def _active_user(user_id: str) -> Any:
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


class _ExecutionTokenMiddleware:
    """Replace the session user with the token's user when a valid ``access_token`` is given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("access_token") or [""])[0]
        if token and is_client_token(token):
            scope = dict(scope)
            try:
                claims, membership = await db_call(membership_for_client_token)(token)
            except ExecutionTokenError as error:
                scope["execution_token_error"] = error.code
            else:
                scope["user"] = membership.user
                scope["client_claims"] = claims
        elif token:
            scope = dict(scope)
            try:
                claims = verify_execution_token(token)
            except ExecutionTokenError as error:
                scope["execution_token_error"] = error.code
            else:
                user = await _active_user(claims.user_id)
                if user is not None:
                    scope["user"] = user
                    scope["execution_claims"] = claims
        return await self.inner(scope, receive, send)


def WebSocketAuthMiddleware(inner: Any) -> Any:
    """Session authentication first, then the execution token if one is present."""
    return AuthMiddlewareStack(_ExecutionTokenMiddleware(inner))
