"""Actions on organizations and memberships, called by views, the API, signals and commands."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from mozaiks_core.auth.models import Membership, Organization


def unique_org_slug(name: str) -> str:
    """A slug derived from ``name`` that no organization uses yet."""
    base = (slugify(name) or "org")[:60]
    slug, counter = base, 1
    while Organization.objects.filter(slug=slug).exists():
        counter += 1
        slug = f"{base}-{counter}"
    return slug


@transaction.atomic
def create_organization(*, name: str, owner: AbstractBaseUser, personal: bool = False) -> Organization:
    """Create an organization with ``owner`` as its first owner."""
    organization = Organization.objects.create(name=name, slug=unique_org_slug(name), personal=personal)
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
    label = getattr(user, "email", "") or user.get_username()
    return create_organization(name=f"{label.split('@')[0]}'s workspace", owner=user, personal=True)
