"""Account and organization API endpoints."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.security import api_auth

router = Router(tags=["accounts"])


class MeOut(Schema):
    """The signed-in user and the organization this call acts for."""

    user_id: int
    email: str
    organization_id: int
    organization_slug: str
    role: str


@router.get("/me", response=MeOut, auth=api_auth)
def me(request: HttpRequest) -> MeOut:
    """Who am I, and which organization is active."""
    caller = get_caller(request)
    return MeOut(
        user_id=caller.user.pk,
        email=caller.user.email,
        organization_id=caller.organization.pk,
        organization_slug=caller.organization.slug,
        role=caller.role,
    )
