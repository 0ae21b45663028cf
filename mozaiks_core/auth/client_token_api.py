"""``POST /api/auth/client-token``: issue (or refresh) the client token of a single-page client.

A signed-in session gets a token for its active organization; a valid client token gets a fresh
one for the same organization (membership checked again). API keys and execution tokens cannot
mint client tokens.
"""

from __future__ import annotations

import time

from django.http import HttpRequest, JsonResponse
from ninja import Router

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.client_tokens import issue_client_token
from mozaiks_core.auth.errors import error_response
from mozaiks_core.auth.scoping import caller_scoped
from mozaiks_core.auth.security import api_auth
from mozaiks_core.workspace_info import app_id

router = Router(tags=["accounts"])


@router.post("/auth/client-token", auth=api_auth)
@caller_scoped
def client_token(request: HttpRequest) -> JsonResponse:
    """A short-lived token for the caller in the active organization (Bearer on HTTP, ``?access_token=`` on sockets)."""
    caller = get_caller(request)
    if caller.via not in ("session", "client_token"):
        return error_response(403, "SESSION_REQUIRED", "Client tokens are issued to a signed-in session (or "
                              "refreshed with a client token), not to API keys or execution tokens.")
    token, expires_at = issue_client_token(user_id=caller.user.pk, organization_id=caller.organization.pk)
    user = caller.user
    return JsonResponse({
        "access_token": token, "token_type": "Bearer", "expires_at": expires_at,
        "expires_in": expires_at - int(time.time()), "app_id": app_id(),
        "user": {"id": str(user.pk), "user_id": str(user.pk), "username": user.get_username(), "email": user.email,
                 "name": user.get_full_name() or user.get_username()},
        "organization": {"id": str(caller.organization.pk), "slug": caller.organization.slug,
                         "name": caller.organization.name},
    })
