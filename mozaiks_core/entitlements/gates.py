"""Entitlement gates for views, django-ninja operations and Channels consumers.

Every gate answers a denial the same way: HTTP 402 (a plan change would help) or 403 with
``{error: "ENTITLEMENT_REQUIRED"|"LIMIT_EXCEEDED", key, reason, message, ..., upgrade_url}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse

from mozaiks_core.auth.caller import build_caller
from mozaiks_core.auth.models import Organization
from mozaiks_core.entitlements import types as t
from mozaiks_core.entitlements.decisions import decide_subject
from mozaiks_core.entitlements.services import denial_body, denial_status
from mozaiks_core.observability import metrics


def organization_for_request(request: HttpRequest) -> Organization | None:
    """The organization a request acts for (the API caller's, else the signed-in user's active one)."""
    caller = getattr(request, "caller", None)
    if caller is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        caller = build_caller(request, user, "session")
        if caller is None:
            return None
        request.caller = caller  # type: ignore[attr-defined]
    return caller.organization


def denial_response(decision: t.Decision) -> JsonResponse:
    """The structured 402/403 JSON response for a denied decision (counted as a quota refusal)."""
    body = denial_body(decision)
    metrics.quota_refused(decision.key, body["error"])
    return JsonResponse(body, status=denial_status(decision))


def check_request(request: HttpRequest, key: str) -> t.Decision:
    """decide() for the organization the request acts for (NO_ORGANIZATION when anonymous)."""
    organization = organization_for_request(request)
    if organization is None:
        return t.Decision(False, t.NO_ORGANIZATION, key)
    return decide_subject(organization, key)


def require_entitlement(key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a Django view (or a django-ninja operation: put it under the route decorator).

    A denied caller gets the structured JSON denial; the view never runs.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            decision = check_request(request, key)
            if not decision.granted:
                return denial_response(decision)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


entitlement_required = require_entitlement  # the name django-ninja users look for


async def consumer_check(scope: dict[str, Any], key: str) -> t.Decision:
    """For Channels consumers: decide ``key`` for the organization in ``scope`` (``scope["organization"]``
    or the organization of ``scope["caller"]``); send ``denial_body(decision)`` when denied.

    Example: ``if not (await consumer_check(self.scope, "chat")).granted: await self.close(code=4402)``.
    """
    subject = scope.get("organization") or scope.get("caller")
    if subject is None:
        return t.Decision(False, t.NO_ORGANIZATION, key)
    # A socket lives for minutes: read fresh rules rather than what the connection cached.
    return await sync_to_async(decide_subject)(subject, key, fresh=True)
