"""Resources the org-scoping check creates for each organization-scoped auth endpoint.

Each factory builds something inside ``organization`` (owned by ``owner``) and returns the
:class:`~mozaiks_core.auth.scoping.ScopedCall` that reaches it; see ``scoping.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model

from mozaiks_core.auth import api_keys, invitations
from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.scoping import ScopedCall


def _person(organization: Organization, role: str = Membership.Role.MEMBER) -> Membership:
    from allauth.account.models import EmailAddress

    email = f"scope-{uuid.uuid4().hex[:10]}@example.com"
    user = get_user_model().objects.create_user(username=email, email=email, password=uuid.uuid4().hex)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return Membership.objects.create(user=user, organization=organization, role=role)


def _owner_membership(organization: Organization, owner: Any) -> Membership:
    return Membership.objects.select_related("organization", "user").get(organization=organization, user=owner)


def organization_only(organization: Organization, owner: Any) -> ScopedCall:
    """The organization itself."""
    return ScopedCall(path_params={"org_id": organization.pk}, marker=organization.slug)


def organization_with_member(organization: Organization, owner: Any) -> ScopedCall:
    """An organization with one extra member whose email must stay inside it."""
    member = _person(organization)
    return ScopedCall(path_params={"org_id": organization.pk}, marker=member.user.email)


def member_role_change(organization: Organization, owner: Any) -> ScopedCall:
    """A member to promote to admin."""
    member = _person(organization)
    return ScopedCall(path_params={"org_id": organization.pk, "member_id": member.pk}, json={"role": "admin"},
                      marker=member.user.email)


def member_to_remove(organization: Organization, owner: Any) -> ScopedCall:
    """A member to remove."""
    member = _person(organization)
    return ScopedCall(path_params={"org_id": organization.pk, "member_id": member.pk})


def organization_with_second_owner(organization: Organization, owner: Any) -> ScopedCall:
    """A second owner, so the first one may leave."""
    _person(organization, Membership.Role.OWNER)
    return ScopedCall(path_params={"org_id": organization.pk})


def ownership_transfer(organization: Organization, owner: Any) -> ScopedCall:
    """A member to hand ownership to."""
    member = _person(organization)
    return ScopedCall(path_params={"org_id": organization.pk}, json={"member_id": member.pk},
                      marker=member.user.email)


def pending_invitation(organization: Organization, owner: Any) -> ScopedCall:
    """A pending invitation."""
    email = f"invitee-{uuid.uuid4().hex[:10]}@example.com"
    invitation = invitations.invite_member(_owner_membership(organization, owner), email=email)
    return ScopedCall(path_params={"org_id": organization.pk, "invitation_id": invitation.pk}, marker=email)


def new_invitation(organization: Organization, owner: Any) -> ScopedCall:
    """A request to invite a new address."""
    email = f"invitee-{uuid.uuid4().hex[:10]}@example.com"
    return ScopedCall(path_params={"org_id": organization.pk}, json={"email": email, "role": "member"})


def existing_api_key(organization: Organization, owner: Any) -> ScopedCall:
    """An API key of the organization."""
    created = api_keys.create_api_key(_owner_membership(organization, owner), name="scoping check")
    return ScopedCall(path_params={"org_id": organization.pk, "key_id": created.api_key.pk},
                      marker=created.api_key.prefix)


def new_api_key(organization: Organization, owner: Any) -> ScopedCall:
    """A request to create an API key."""
    return ScopedCall(path_params={"org_id": organization.pk}, json={"name": "scoping check", "scopes": ["read"]})
