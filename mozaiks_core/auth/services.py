"""Actions on organizations and memberships, called by views, the API, signals and commands.

Every action checks the acting user's role itself, so pages, the JSON API and management
commands enforce the same rules. A refused action raises :class:`ActionRefused` whose message
names what is wrong and what to do.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from mozaiks_core.auth.models import Membership, Organization

MAX_ORG_NAME = 120
MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class ActionRefused(Exception):
    """An action the caller may not take or that would break a rule; ``status`` suits an HTTP reply."""

    def __init__(self, code: str, message: str, status: int = 400, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}  # extra fields of the JSON body (a limit refusal's key, limit, used)


def clean_org_name(name: Any) -> str:
    """Validate an organization name: 1–120 printable characters after trimming."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ActionRefused("NAME_REQUIRED", "Give the organization a name.")
    if len(text) > MAX_ORG_NAME:
        raise ActionRefused("NAME_TOO_LONG", f"The organization name is longer than {MAX_ORG_NAME} characters.")
    if any(not char.isprintable() for char in text):
        raise ActionRefused("NAME_INVALID", "The organization name contains control characters; remove them.")
    return text


def unique_org_slug(name: str) -> str:
    """A slug derived from ``name`` that no organization uses yet."""
    base = (slugify(name) or "org")[:60].strip("-") or "org"
    slug, counter = base, 1
    while Organization.objects.filter(slug=slug).exists():
        counter += 1
        slug = f"{base}-{counter}"
    return slug


@transaction.atomic
def create_organization(*, name: str, owner: AbstractBaseUser, personal: bool = False) -> Organization:
    """Create an organization with ``owner`` as its first owner."""
    cleaned = clean_org_name(name)
    organization = Organization.objects.create(name=cleaned, slug=unique_org_slug(cleaned), personal=personal)
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    return organization


def ensure_personal_organization(user: AbstractBaseUser) -> Organization:
    """Return the user's personal organization, creating it on first use."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__personal=True, role=Membership.Role.OWNER)
        .first()
    )
    if membership is not None:
        return membership.organization
    label = (getattr(user, "email", "") or user.get_username()).split("@")[0][:80]
    return create_organization(name=f"{label}'s workspace", owner=user, personal=True)


def parse_id(value: Any) -> int:
    """A database id from user input; anything that is not a positive 63-bit integer becomes 0 (matches nothing)."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        return 0
    return int(text)


def membership_of(user: Any, organization: Organization | int | str) -> Membership:
    """The user's membership; a non-member gets ``NOT_FOUND`` so other organizations stay invisible."""
    queryset = Membership.objects.select_related("organization", "user").filter(user=user)
    if isinstance(organization, Organization):
        membership = queryset.filter(organization=organization).first()
    elif str(organization).isdigit():
        membership = queryset.filter(organization_id=parse_id(organization)).first()
    else:
        membership = queryset.filter(organization__slug=str(organization)).first()
    if membership is None:
        raise ActionRefused("NOT_FOUND", "No such organization among yours; check the id or slug.", 404)
    return membership


def is_manager(user: Any, organization: Organization) -> bool:
    """Whether ``user``'s membership makes them an owner or admin of ``organization``.

    Membership is the only source: a Django superuser who is not an owner/admin of the
    organization does not manage it through pages or the API (operators use the Django admin).
    A credential can only narrow this: when a request's :class:`~mozaiks_core.auth.caller.Caller`
    is at hand, ``caller.can_manage`` (which caps API keys without ``manage``) is the answer.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, organization=organization, role__in=MANAGER_ROLES).exists()


def require_manager(membership: Membership) -> None:
    """Refuse unless the member is an owner or admin (they manage members, billing and API keys)."""
    if membership.role not in MANAGER_ROLES:
        raise ActionRefused(
            "ROLE_REQUIRED", "Only owners and admins of this organization can do this; ask one of them.", 403
        )


def _lock_owners(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.select_for_update().filter(organization=organization, role=Membership.Role.OWNER)
    )


def _check_role(role: Any) -> str:
    if role not in Membership.Role.values:
        raise ActionRefused("ROLE_INVALID", f"Unknown role {str(role)[:40]!r}; use owner, admin or member.")
    return str(role)


@transaction.atomic
def change_role(actor: Membership, target: Membership, role: str) -> Membership:
    """Give a member another role; only owners grant or take away ownership, and one owner always remains."""
    require_manager(actor)
    role = _check_role(role)
    touches_owner = Membership.Role.OWNER in (role, target.role)
    if touches_owner and actor.role != Membership.Role.OWNER:
        raise ActionRefused("OWNER_REQUIRED", "Only an owner can grant or remove the owner role.", 403)
    owners = _lock_owners(target.organization)
    if target.role == Membership.Role.OWNER and role != Membership.Role.OWNER and len(owners) <= 1:
        raise ActionRefused("LAST_OWNER", "An organization needs an owner; make someone else owner first.", 409)
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def remove_member(actor: Membership, target: Membership) -> None:
    """Remove someone else from the organization (owners and admins; admins cannot remove owners)."""
    require_manager(actor)
    if target.pk == actor.pk:
        raise ActionRefused("USE_LEAVE", "To remove yourself, leave the organization instead.")
    if target.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise ActionRefused("OWNER_REQUIRED", "Only an owner can remove another owner.", 403)
    target.delete()


@transaction.atomic
def leave_organization(membership: Membership) -> None:
    """Leave an organization; the last owner must transfer ownership first, and personal workspaces stay."""
    if membership.organization.personal:
        raise ActionRefused("PERSONAL_ORGANIZATION", "You cannot leave your personal workspace.", 409)
    owners = _lock_owners(membership.organization)
    if membership.role == Membership.Role.OWNER and len(owners) <= 1:
        raise ActionRefused(
            "LAST_OWNER", "You are the only owner; transfer ownership to another member before leaving.", 409
        )
    membership.delete()


@transaction.atomic
def transfer_ownership(actor: Membership, target: Membership) -> Membership:
    """Make ``target`` an owner and the acting owner an admin, in one transaction."""
    if actor.role != Membership.Role.OWNER:
        raise ActionRefused("OWNER_REQUIRED", "Only an owner can transfer ownership.", 403)
    if target.organization_id != actor.organization_id:
        raise ActionRefused("NOT_FOUND", "That person is not a member of this organization.", 404)
    if target.pk == actor.pk:
        raise ActionRefused("ALREADY_OWNER", "You already own this organization; pick another member.")
    _lock_owners(actor.organization)
    target.role = Membership.Role.OWNER
    target.save(update_fields=["role"])
    actor.role = Membership.Role.ADMIN
    actor.save(update_fields=["role"])
    return target


def validate_email_address(value: Any) -> str:
    """Normalise an email address or refuse it with a message that says why."""
    from django.core.validators import validate_email

    text = str(value or "").strip()
    if not text:
        raise ActionRefused("EMAIL_REQUIRED", "Enter an email address.")
    if len(text) > 254:
        raise ActionRefused("EMAIL_TOO_LONG", "The email address is longer than 254 characters.")
    try:
        validate_email(text)
    except ValidationError:
        raise ActionRefused("EMAIL_INVALID", "Enter a valid email address such as ada@example.com.") from None
    local, _, domain = text.rpartition("@")
    if len(local) > 64:
        raise ActionRefused("EMAIL_TOO_LONG", "The part before the @ is longer than 64 characters.")
    return f"{local}@{domain.lower()}".lower()
