"""Account, organization, invitation and API-key endpoints (``/api/me``, ``/api/orgs/...``).

Views are thin: they resolve the acting membership and call the actions in ``services``,
``invitations`` and ``api_keys``. A refused action answers ``{error, message, code, detail}``
(see ``mozaiks_core.auth.errors``) with its status;
another organization's resources answer 404, a member calling an owner/admin action 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Router, Status

from mozaiks_core.auth import api_keys, invitations, services
from mozaiks_core.auth import scope_factories as factories
from mozaiks_core.auth.caller import SESSION_ORG_KEY, get_caller, set_active_organization
from mozaiks_core.auth.errors import error_response
from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.auth.schemas import (
    AcceptIn,
    ActiveOrganizationIn,
    APIKeyIn,
    APIKeyOut,
    CreatedAPIKeyOut,
    InvitationIn,
    InvitationOut,
    LimitProblem,
    MemberOut,
    MeOut,
    OrganizationIn,
    OrganizationOut,
    Problem,
    RoleIn,
    TransferIn,
)
from mozaiks_core.auth.scoping import caller_scoped, org_scoped
from mozaiks_core.auth.security import api_auth
from mozaiks_core.auth.services import ActionRefused

router = Router(tags=["accounts"], auth=api_auth)
REFUSALS: dict[int, Any] = {400: Problem, 402: LimitProblem, 403: Problem, 404: Problem, 409: Problem, 410: Problem,
                            429: Problem}


def refusal(error: ActionRefused) -> JsonResponse:
    """The JSON answer for a refused action: the shared error envelope with the action's status."""
    return error_response(error.status, error.code, error.message, details=error.details)


def acting_membership(request: HttpRequest, org_id: str) -> Membership:
    """The caller's membership in ``org_id`` (id or slug), with the role the credential allows.

    API keys and execution tokens only reach their own organization, with their capped role.
    """
    caller = get_caller(request)
    if caller.via == "session":
        return services.membership_of(caller.user, org_id)
    if str(org_id) not in {str(caller.organization.pk), caller.organization.slug}:
        raise ActionRefused("NOT_FOUND", "No such organization among yours; check the id or slug.", 404)
    membership = services.membership_of(caller.user, caller.organization)
    membership.role = caller.role
    return membership


def _target(actor: Membership, member_id: int) -> Membership:
    target = Membership.objects.select_related("user", "organization").filter(
        organization=actor.organization, pk=services.parse_id(member_id)
    ).first()
    if target is None:
        raise ActionRefused("NOT_FOUND", "No such member in this organization.", 404)
    return target


# --- the caller ------------------------------------------------------------------------------


@router.get("/me", response=MeOut)
@caller_scoped
def me(request: HttpRequest) -> MeOut:
    """Who am I, which organization is active, and which credential was used."""
    caller = get_caller(request)
    return MeOut(user_id=caller.user.pk, email=caller.user.email, organization_id=caller.organization.pk,
                 organization_slug=caller.organization.slug, role=caller.role, via=caller.via)


@router.get("/orgs", response=list[OrganizationOut])
@caller_scoped
def list_organizations(request: HttpRequest) -> list[OrganizationOut]:
    """The organizations the caller belongs to (an API key sees only its own)."""
    caller = get_caller(request)
    memberships = Membership.objects.select_related("organization").filter(user=caller.user)
    if caller.via != "session":
        memberships = memberships.filter(organization=caller.organization)
    return [OrganizationOut.of(m, caller.organization.pk) for m in memberships.order_by("organization__name")]


@router.post("/orgs", response={201: OrganizationOut, **REFUSALS})
@caller_scoped
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Any:
    """Create a team organization owned by the caller (signed-in people only, not API keys)."""
    caller = get_caller(request)
    if caller.via != "session":
        return refusal(ActionRefused("SESSION_REQUIRED", "Create organizations while signed in, not with a key.", 403))
    try:
        organization = services.create_organization(name=payload.name, owner=caller.user)
    except ActionRefused as error:
        return refusal(error)
    return Status(201, OrganizationOut.of(services.membership_of(caller.user, organization)))


@router.post("/orgs/active", response={200: OrganizationOut, **REFUSALS})
@caller_scoped
def switch_organization(request: HttpRequest, payload: ActiveOrganizationIn) -> Any:
    """Make another of the caller's organizations active for this browser session."""
    caller = get_caller(request)
    if caller.via != "session":
        return refusal(ActionRefused("SESSION_REQUIRED", "Send X-Mozaiks-Organization per call instead.", 400))
    try:
        membership = set_active_organization(request, caller.user, payload.organization)
    except ActionRefused as error:
        return refusal(error)
    return OrganizationOut.of(membership, request.session.get(SESSION_ORG_KEY))


@router.post("/invitations/accept", response={200: OrganizationOut, **REFUSALS})
@caller_scoped
def accept_invitation(request: HttpRequest, payload: AcceptIn) -> Any:
    """Join the organization an invitation names (the caller must hold the invited, verified address)."""
    caller = get_caller(request)
    try:
        membership = invitations.accept_invitation(payload.token, caller.user)
    except ActionRefused as error:
        return refusal(error)
    return OrganizationOut.of(membership)


# --- one organization ------------------------------------------------------------------------


@router.get("/orgs/{org_id}", response={200: OrganizationOut, **REFUSALS})
@org_scoped(factories.organization_only)
def get_organization(request: HttpRequest, org_id: str) -> Any:
    """One organization the caller belongs to."""
    try:
        return OrganizationOut.of(acting_membership(request, org_id), get_caller(request).organization.pk)
    except ActionRefused as error:
        return refusal(error)


@router.get("/orgs/{org_id}/members", response={200: list[MemberOut], **REFUSALS})
@org_scoped(factories.organization_with_member)
def list_members(request: HttpRequest, org_id: str) -> Any:
    """The members of an organization with their roles (visible to every member)."""
    try:
        actor = acting_membership(request, org_id)
    except ActionRefused as error:
        return refusal(error)
    members = actor.organization.memberships.select_related("user").order_by("created_at")
    return [MemberOut.of(member) for member in members]


@router.patch("/orgs/{org_id}/members/{member_id}", response={200: MemberOut, **REFUSALS})
@org_scoped(factories.member_role_change, manage=True)
def change_member_role(request: HttpRequest, org_id: str, member_id: int, payload: RoleIn) -> Any:
    """Give a member another role (owners and admins; only owners touch ownership)."""
    try:
        actor = acting_membership(request, org_id)
        return MemberOut.of(services.change_role(actor, _target(actor, member_id), payload.role))
    except ActionRefused as error:
        return refusal(error)


@router.delete("/orgs/{org_id}/members/{member_id}", response={204: None, **REFUSALS})
@org_scoped(factories.member_to_remove, manage=True)
def remove_member(request: HttpRequest, org_id: str, member_id: int) -> Any:
    """Remove a member (owners and admins; admins cannot remove owners)."""
    try:
        actor = acting_membership(request, org_id)
        services.remove_member(actor, _target(actor, member_id))
    except ActionRefused as error:
        return refusal(error)
    return Status(204, None)


@router.post("/orgs/{org_id}/leave", response={204: None, **REFUSALS})
@org_scoped(factories.organization_with_second_owner)
def leave_organization(request: HttpRequest, org_id: str) -> Any:
    """Leave an organization (the last owner must transfer ownership first)."""
    try:
        services.leave_organization(acting_membership(request, org_id))
    except ActionRefused as error:
        return refusal(error)
    if request.session.get(SESSION_ORG_KEY) is not None:
        request.session.pop(SESSION_ORG_KEY)
    return Status(204, None)


@router.post("/orgs/{org_id}/transfer", response={200: MemberOut, **REFUSALS})
@org_scoped(factories.ownership_transfer, manage=True)
def transfer_ownership(request: HttpRequest, org_id: str, payload: TransferIn) -> Any:
    """Make another member the owner; the current owner becomes an admin."""
    try:
        actor = acting_membership(request, org_id)
        return MemberOut.of(services.transfer_ownership(actor, _target(actor, payload.member_id)))
    except ActionRefused as error:
        return refusal(error)


# --- invitations -----------------------------------------------------------------------------


@router.get("/orgs/{org_id}/invitations", response={200: list[InvitationOut], **REFUSALS})
@org_scoped(factories.pending_invitation, manage=True)
def list_invitations(request: HttpRequest, org_id: str) -> Any:
    """Pending invitations of an organization (owners and admins)."""
    try:
        actor = acting_membership(request, org_id)
        services.require_manager(actor)
    except ActionRefused as error:
        return refusal(error)
    return [InvitationOut.of(item) for item in invitations.pending_invitations(actor.organization)]


@router.post("/orgs/{org_id}/invitations", response={201: InvitationOut, **REFUSALS})
@org_scoped(factories.new_invitation, manage=True)
def invite_member(request: HttpRequest, org_id: str, payload: InvitationIn) -> Any:
    """Invite someone by email; they get a link valid for ``MOZAIKS_INVITATION_DAYS`` days."""
    try:
        actor = acting_membership(request, org_id)
        invitation = invitations.invite_member(actor, email=payload.email, role=payload.role, request=request)
    except ActionRefused as error:
        return refusal(error)
    return Status(201, InvitationOut.of(invitation))


@router.post("/orgs/{org_id}/invitations/{invitation_id}/resend", response={200: InvitationOut, **REFUSALS})
@org_scoped(factories.pending_invitation, manage=True)
def resend_invitation(request: HttpRequest, org_id: str, invitation_id: int) -> Any:
    """Email a fresh link; the previous link stops working."""
    try:
        actor = acting_membership(request, org_id)
        return InvitationOut.of(invitations.resend_invitation(actor, invitation_id, request=request))
    except ActionRefused as error:
        return refusal(error)


@router.delete("/orgs/{org_id}/invitations/{invitation_id}", response={200: InvitationOut, **REFUSALS})
@org_scoped(factories.pending_invitation, manage=True)
def revoke_invitation(request: HttpRequest, org_id: str, invitation_id: int) -> Any:
    """Revoke a pending invitation."""
    try:
        actor = acting_membership(request, org_id)
        return InvitationOut.of(invitations.revoke_invitation(actor, invitation_id))
    except ActionRefused as error:
        return refusal(error)


# --- API keys --------------------------------------------------------------------------------


@router.get("/orgs/{org_id}/api-keys", response={200: list[APIKeyOut], **REFUSALS})
@org_scoped(factories.existing_api_key, manage=True)
def list_api_keys(request: HttpRequest, org_id: str) -> Any:
    """The organization's API keys (prefixes, never secrets)."""
    try:
        actor = acting_membership(request, org_id)
        services.require_manager(actor)
    except ActionRefused as error:
        return refusal(error)
    return [APIKeyOut.of(key) for key in APIKey.objects.filter(organization=actor.organization)]


@router.post("/orgs/{org_id}/api-keys", response={201: CreatedAPIKeyOut, **REFUSALS})
@org_scoped(factories.new_api_key, manage=True)
def create_api_key(request: HttpRequest, org_id: str, payload: APIKeyIn) -> Any:
    """Create a key; the response holds the secret, shown this once."""
    try:
        actor = acting_membership(request, org_id)
        created = api_keys.create_api_key(actor, name=payload.name, scopes=payload.scopes,
                                          expires_at=payload.expires_at)
    except ActionRefused as error:
        return refusal(error)
    return Status(201, CreatedAPIKeyOut(**APIKeyOut.of(created.api_key).dict(), secret=created.secret))


@router.delete("/orgs/{org_id}/api-keys/{key_id}", response={200: APIKeyOut, **REFUSALS})
@org_scoped(factories.existing_api_key, manage=True)
def revoke_api_key(request: HttpRequest, org_id: str, key_id: int) -> Any:
    """Revoke a key; it stops working immediately."""
    try:
        actor = acting_membership(request, org_id)
        return APIKeyOut.of(api_keys.revoke_api_key(actor, key_id))
    except ActionRefused as error:
        return refusal(error)
