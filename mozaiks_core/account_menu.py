"""The shell's account menu: where a signed-in user's own pages are, and which organization is active.

One list of links for every page of the shell (the demo, a generated project, allauth's pages),
built from the user's memberships in one query. Links the user's role cannot open are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

MANAGER_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class MenuLink:
    """One entry of the account menu."""

    label: str
    href: str


@dataclass
class AccountMenu:
    """The signed-in user's menu: their organizations (the active one first) and their pages."""

    active: Any  # the active Membership
    memberships: list[Any] = field(default_factory=list)
    links: list[MenuLink] = field(default_factory=list)

    @property
    def role(self) -> str:
        """The user's role in the active organization."""
        return str(self.active.role)

    @property
    def others(self) -> list[Any]:
        """Memberships the switcher offers (every organization but the active one)."""
        return [m for m in self.memberships if m.organization_id != self.active.organization_id]


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a project URLconf without that part of the framework
        return None


def _active(request: HttpRequest, memberships: list[Any]) -> Any:
    """The membership the request acts for, as :func:`membership_for_request` resolves it."""
    from mozaiks_core.auth.caller import ORG_HEADER, SESSION_ORG_KEY, membership_for_request

    selected = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    if selected and not request.META.get(ORG_HEADER):
        for membership in memberships:
            if membership.organization_id == selected:
                return membership
    return membership_for_request(request, request.user)


def account_menu(request: HttpRequest) -> AccountMenu | None:
    """The menu of a signed-in user (None for visitors)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return None
    from mozaiks_core.auth.models import Membership

    memberships = list(Membership.objects.filter(user=user).select_related("organization")
                       .order_by("-organization__personal", "organization__name"))
    active = _active(request, memberships)
    if all(m.pk != active.pk for m in memberships):
        memberships.insert(0, active)
    manager = active.role in MANAGER_ROLES
    slug = active.organization.slug
    candidates = [
        ("Account", _url("account_email")),
        ("Security and two-factor", _url("mfa_index")),
        ("Password", _url("account_change_password")),
        ("Connected accounts", _url("socialaccount_connections")),
        ("Organizations", _url("mozaiks_auth:organization_list")),
        ("Billing", _url("mozaiks_billing:overview")),
        ("Pricing", _url("mozaiks_billing:pricing")),
        ("API keys", _url("mozaiks_auth:api_keys", slug) if manager else None),
    ]
    links = [MenuLink(label, href) for label, href in candidates if href]
    return AccountMenu(active=active, memberships=memberships, links=links)
