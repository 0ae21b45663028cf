"""Who is calling: the authenticated user and the organization the call acts for.

Every API endpoint and page gets the same answer from :func:`get_caller`. The active
organization comes from the ``X-Mozaiks-Organization`` header (id or slug), else the session's
choice, else the user's personal organization; the caller must be a member of it. API keys and
execution tokens are bound to one organization and ignore the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.services import ActionRefused, ensure_personal_organization, membership_of
from mozaiks_core.auth.tokens import ExecutionClaims

SESSION_ORG_KEY = "mozaiks_active_org"
ORG_HEADER = "HTTP_X_MOZAIKS_ORGANIZATION"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller acting for one organization.

    ``via`` is ``session``, ``api_key`` or ``execution_token``; ``scopes`` is empty for sessions
    and execution tokens (full rights of the role) and the key's scopes for API keys;
    ``session_key`` is the signed-in session's key (sessions only: tokens minted for it die with it).
    """

    user: Any
    organization: Organization
    role: str
    via: str
    claims: ExecutionClaims | None = None
    scopes: tuple[str, ...] = field(default=())
    api_key_id: int | None = None
    session_key: str = ""

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage members, billing, API keys and admin-only capabilities.

        ``role`` is already capped by the credential (API keys without ``manage``, execution tokens),
        so this is the manager check for anything a request does.
        """
        return self.role in {Membership.Role.OWNER, Membership.Role.ADMIN}


def _membership_for(user: Any, selector: str | int | None) -> Membership | None:
    if selector in (None, ""):
        return None
    try:
        return membership_of(user, str(selector)[:100])
    except ActionRefused:
        return None


def membership_for_request(request: HttpRequest, user: Any) -> Membership | None:
    """The caller's membership in the organization the request selects (None if not a member)."""
    header = request.META.get(ORG_HEADER)
    if header:
        return _membership_for(user, header)
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_ORG_KEY):
        membership = _membership_for(user, session[SESSION_ORG_KEY])
        if membership is not None:
            return membership
    personal = ensure_personal_organization(user)
    return Membership.objects.select_related("organization").get(user=user, organization=personal)


def build_caller(request: HttpRequest, user: Any, via: str, claims: ExecutionClaims | None = None) -> Caller | None:
    """Resolve the organization for ``user`` and return the caller (None if not a member)."""
    if claims is not None:
        membership = _membership_for(user, claims.organization_id)
    else:
        membership = membership_for_request(request, user)
    if membership is None:
        return None
    return Caller(user=user, organization=membership.organization, role=membership.role, via=via, claims=claims)


def set_active_organization(request: HttpRequest, user: Any, selector: Any) -> Membership:
    """Make ``selector`` (id or slug) the session's active organization; refuses non-members with 404."""
    membership = membership_of(user, str(selector)[:100])
    request.session[SESSION_ORG_KEY] = membership.organization_id
    return membership


def get_caller(request: HttpRequest) -> Caller:
    """The caller an auth class attached to ``request``; raises if the endpoint had no auth."""
    caller = getattr(request, "caller", None)
    if caller is None:
        raise LookupError("get_caller() used on an endpoint without mozaiks authentication")
    return caller
