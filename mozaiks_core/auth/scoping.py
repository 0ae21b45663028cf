"""Every ``/api/`` operation states whose data it touches, so a test can prove isolation.

Decorate the view function (above or below ``@router.get(...)``, the order does not matter):

- ``@public`` — no authentication, no account data (health-like, catalogues).
- ``@caller_scoped`` — only the signed-in caller's own data (``/me``, "my organizations").
- ``@org_scoped(factory, manage=False)`` — data of one organization. ``factory(org, owner)``
  creates a resource in ``org`` and returns a :class:`ScopedCall` that succeeds for its owner.
  ``manage=True`` means only owners/admins may call it (members get 403).

``tests/auth/test_org_scoping.py`` enumerates every route of ``mozaiks_core.api.api``: a route
without a declaration fails; each org-scoped route is called by another organization's admin
(must get 403/404, and must not see ``ScopedCall.marker``), by a plain member when
``manage=True`` (403), and by the owner (must succeed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from mozaiks_core.auth.models import Organization

SCOPE_ATTRIBUTE = "__mozaiks_scope__"
ScopeKind = Literal["organization", "caller", "public"]
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class ScopedCall:
    """How to call an org-scoped route on a resource of one organization.

    ``path_params`` fill the route's ``{placeholders}``; ``json`` is the request body; ``marker``
    is text the owner's response contains and another organization's response must not.
    """

    path_params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    marker: str = ""


ScopeFactory = Callable[[Organization, Any], ScopedCall]


def active_organization(organization: Organization, owner: Any) -> ScopedCall:
    """Factory for routes that act on the caller's active organization and need no resource.

    The check then proves that naming another organization in ``X-Mozaiks-Organization`` is
    refused. Prefer a factory that also creates data and returns its ``marker``, so the check can
    prove that another organization's caller does not see it in their own answer.
    """
    return ScopedCall()


@dataclass(frozen=True)
class DataScope:
    """The declared data scope of one API operation."""

    kind: ScopeKind
    manage: bool = False
    factory: ScopeFactory | None = None


def _declare(view: View, scope: DataScope) -> View:
    setattr(view, SCOPE_ATTRIBUTE, scope)
    return view


def public(view: View) -> View:
    """Declare that the operation needs no account and returns no account or organization data."""
    return _declare(view, DataScope(kind="public"))


def caller_scoped(view: View) -> View:
    """Declare that the operation only reads or changes the authenticated caller's own data."""
    return _declare(view, DataScope(kind="caller"))


def org_scoped(factory: ScopeFactory, *, manage: bool = False) -> Callable[[View], View]:
    """Declare that the operation returns or changes one organization's data.

    ``factory(organization, owner)`` builds a resource in ``organization`` and returns the
    :class:`ScopedCall` that reaches it; ``manage=True`` restricts the operation to owners/admins.
    """

    def decorate(view: View) -> View:
        return _declare(view, DataScope(kind="organization", manage=manage, factory=factory))

    return decorate


def declared_scope(view: Callable[..., Any]) -> DataScope | None:
    """The scope a view function declared, or None."""
    return getattr(view, SCOPE_ATTRIBUTE, None)


@dataclass(frozen=True)
class Route:
    """One operation of the API: method, full path template and its view function."""

    method: str
    path: str
    view: Callable[..., Any]

    @property
    def scope(self) -> DataScope | None:
        """The operation's declared data scope."""
        return declared_scope(self.view)


def iter_routes(api: Any, mount: str = "/api") -> Iterator[Route]:
    """Every operation of a NinjaAPI, with its full path (``/api/orgs/{org_id}/members``)."""
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                full = "/" + "/".join(part.strip("/") for part in (mount, prefix, path) if part.strip("/"))
                if path.endswith("/"):
                    full += "/"
                for method in operation.methods:
                    yield Route(method=method, path=full, view=operation.view_func)
