"""Who is calling: the authenticated user and the organization the call acts for.

Every API endpoint and page gets the same answer from :func:`get_caller`. The active
organization comes from the ``X-Mozaiks-Organization`` header (id or slug), else the session's
choice, else the user's personal organization; the caller must be a member of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.auth.tokens import ExecutionClaims

SESSION_ORG_KEY = "mozaiks_active_org"
ORG_HEADER = "HTTP_X_MOZAIKS_ORGANIZATION"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller acting for one organization."""

    user: Any
    organization: Organization
    role: str
    via: str  # "session" | "api_key" | "execution_token"
    claims: ExecutionClaims | None = None

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage members, billing and API keys."""
        return self.role in {Membership.Role.OWNER, Membership.Role.ADMIN}


def _membership_for(user: Any, selector: str | int | None) -> Membership | None:
    queryset = Membership.objects.select_related("organization").filter(user=user)
    if selector in (None, ""):
        return None
    text = str(selector)
    if text.isdigit():
        return queryset.filter(organization_id=int(text)).first()
    return queryset.filter(organization__slug=text).first()


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


def get_caller(request: HttpRequest) -> Caller:
    """The caller an auth class attached to ``request``; raises if the endpoint had no auth."""
    caller = getattr(request, "caller", None)
    if caller is None:
        raise LookupError("get_caller() used on an endpoint without mozaiks authentication")
    return caller
