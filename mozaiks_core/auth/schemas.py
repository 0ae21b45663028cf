"""Request and response shapes of the accounts and organizations API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from mozaiks_core.auth.models import APIKey, Invitation, Membership, Organization


class Problem(Schema):
    """A refused request: ``error`` is stable for programs, ``message`` says what to do.

    ``code`` and ``detail`` repeat them: the accounts API's first shape, kept for existing clients.
    """

    error: str
    message: str
    code: str
    detail: str


class LimitProblem(Problem):
    """A refusal at a plan limit (402 ``LIMIT_EXCEEDED``): which limit, how many the plan allows, how many are used."""

    key: str
    limit: int
    used: int
    label: str = ""
    upgrade_url: str = ""


class MeOut(Schema):
    """The signed-in user and the organization this call acts for."""

    user_id: int
    email: str
    organization_id: int
    organization_slug: str
    role: str
    via: str


class OrganizationOut(Schema):
    """An organization as one of its members sees it."""

    id: int
    name: str
    slug: str
    personal: bool
    role: str
    active: bool = False

    @classmethod
    def of(cls, membership: Membership, active_id: int | None = None) -> OrganizationOut:
        """Build from the caller's membership."""
        org: Organization = membership.organization
        return cls(id=org.pk, name=org.name, slug=org.slug, personal=org.personal, role=membership.role,
                   active=org.pk == active_id)


class OrganizationIn(Schema):
    """A new organization."""

    name: str = Field(..., max_length=1000)


class ActiveOrganizationIn(Schema):
    """Switch the session's active organization (id or slug)."""

    organization: str = Field(..., max_length=100)


class MemberOut(Schema):
    """One member of an organization."""

    id: int
    user_id: int
    email: str
    role: str
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership) -> MemberOut:
        """Build from a membership row."""
        return cls(id=membership.pk, user_id=membership.user_id, email=membership.user.email,
                   role=membership.role, joined_at=membership.created_at)


class RoleIn(Schema):
    """A new role for a member."""

    role: str = Field(..., max_length=40)


class TransferIn(Schema):
    """The member (membership id) who becomes owner."""

    member_id: int


class InvitationIn(Schema):
    """Invite someone by email."""

    email: str = Field(..., max_length=1000)
    role: str = Field("member", max_length=40)


class InvitationOut(Schema):
    """An invitation (never its token)."""

    id: int
    email: str
    role: str
    status: str
    invited_by: str | None
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        """Build from an invitation row."""
        return cls(id=invitation.pk, email=invitation.email, role=invitation.role, status=invitation.status,
                   invited_by=getattr(invitation.invited_by, "email", None), expires_at=invitation.expires_at)


class AcceptIn(Schema):
    """The token from the invitation link."""

    token: str = Field(..., max_length=200)


class APIKeyIn(Schema):
    """A new API key."""

    name: str = Field(..., max_length=1000)
    scopes: list[str] = Field(default_factory=list, max_length=10)
    expires_at: datetime | None = None


class APIKeyOut(Schema):
    """An API key as listed: its prefix, never the secret."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    status: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, api_key: APIKey) -> APIKeyOut:
        """Build from a key row."""
        return cls(id=api_key.pk, name=api_key.name, prefix=api_key.prefix, scopes=list(api_key.scopes),
                   status=api_key.status, created_at=api_key.created_at, expires_at=api_key.expires_at,
                   last_used_at=api_key.last_used_at)


class CreatedAPIKeyOut(APIKeyOut):
    """A freshly created key: ``secret`` is shown this once and cannot be retrieved later."""

    secret: str
