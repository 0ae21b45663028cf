"""Every ``/api/`` operation states whose data it touches, so a test can prove isolation.

Decorate the view function (above or below ``@router.get(...)``, the order does not matter):

- ``@public`` — no authentication, no account data (health-like, catalogues).
- ``@caller_scoped`` — only the signed-in caller's own data (``/me``, "my organizations").
- ``@org_scoped(factory, manage=False)`` — data of one organization. ``factory(org, owner)``
  creates a resource in ``org`` and returns a :class:`ScopedCall` that succeeds for its owner.
  ``manage=True`` means only owners/admins may call it (members get 403).

Views that cannot carry a decorator (their module belongs to another app, or the route is mounted
generically) are declared in a registry instead: every installed app may have an ``api_scopes``
module whose ``API_SCOPES`` maps ``"<view __module__>.<view __qualname__>"`` or
``"<METHOD> <full path>"`` (``"POST /api/modules/tasks/create_task"``) to a :class:`DataScope`
built with :data:`PUBLIC`, :func:`caller_scope` or :func:`org_scope`. The modules are imported
once, on the first lookup (:func:`autodiscover_scopes`); a decorator wins over the registry.

``tests/auth/test_org_scoping.py`` enumerates every route of ``mozaiks_core.api.api``: a route
without a declaration fails; each org-scoped route is called by another organization's admin
(must get 403/404, and must not see ``ScopedCall.marker``), by a plain member when
``manage=True`` (403), and by the owner (must succeed).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.core.exceptions import ImproperlyConfigured

from mozaiks_core.auth.models import Organization

SCOPE_ATTRIBUTE = "__mozaiks_scope__"
ScopeKind = Literal["organization", "caller", "public"]
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class ScopedCall:
    """How to call an org-scoped route on a resource of one organization.

    ``path_params`` fill the route's ``{placeholders}``; ``json`` is the request body; ``marker``
    is text the owner's response contains and another organization's response must not.
    ``organization_from_header`` says the route acts on the caller's active organization
    (``X-Mozaiks-Organization``) although it has path parameters (``/entitlements/{key}``): its
    path names no organization's resource, so another organization's caller is refused through
    the header and must not see the marker in its own organization's answer.
    """

    path_params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    marker: str = ""
    organization_from_header: bool = False


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


# --- declarations kept outside the view modules --------------------------------------------

SCOPES_MODULE = "api_scopes"
PUBLIC = DataScope(kind="public")
_registry: dict[str, DataScope] = {}
_discovered = False
_discovery_lock = threading.Lock()


def caller_scope(factory: ScopeFactory | None = None) -> DataScope:
    """A registry declaration of caller-only data; ``factory`` (optional) builds one of the caller's
    resources so a check can prove that other users of the same organization cannot reach it."""
    return DataScope(kind="caller", factory=factory)


def org_scope(factory: ScopeFactory, *, manage: bool = False) -> DataScope:
    """A registry declaration of one organization's data (same meaning as :func:`org_scoped`)."""
    return DataScope(kind="organization", manage=manage, factory=factory)


def view_key(view: Callable[..., Any]) -> str:
    """The registry key of a view function: ``"<__module__>.<__qualname__>"``."""
    return f"{view.__module__}.{view.__qualname__}"


def route_key(method: str, path: str) -> str:
    """The registry key of one generically mounted operation: ``"POST /api/modules/tasks/create_task"``."""
    return f"{method.upper()} {path}"


def register_scopes(scopes: Mapping[str, DataScope], *, source: str) -> None:
    """Add declarations to the registry; declaring one key twice differently is a configuration error."""
    for key, scope in scopes.items():
        if not isinstance(scope, DataScope):
            raise ImproperlyConfigured(f"{source}: API_SCOPES[{key!r}] is {scope!r}, not a DataScope; use PUBLIC, "
                                       "caller_scope() or org_scope(factory) from mozaiks_core.auth.scoping.")
        existing = _registry.get(key)
        if existing is not None and existing != scope:
            raise ImproperlyConfigured(f"{source}: {key!r} already has a different data scope declared; "
                                       "declare each view or route once.")
        _registry[key] = scope


def autodiscover_scopes() -> None:
    """Import ``<app>.api_scopes`` of every installed app (once) and register its ``API_SCOPES``.

    ``API_SCOPES`` is a mapping, or a callable returning one (for declarations derived from
    configuration, such as the workspace's module actions).
    """
    global _discovered
    if _discovered:
        return
    from django.apps import apps

    with _discovery_lock:
        if _discovered:
            return
        for app_config in apps.get_app_configs():
            name = f"{app_config.name}.{SCOPES_MODULE}"
            try:
                if importlib.util.find_spec(name) is None:
                    continue
            except ModuleNotFoundError:  # the app is a plain module, not a package
                continue
            declarations = getattr(importlib.import_module(name), "API_SCOPES", None)
            if callable(declarations):
                declarations = declarations()
            if declarations:
                register_scopes(declarations, source=name)
        _discovered = True


def declared_scope(view: Callable[..., Any], *, method: str = "", path: str = "") -> DataScope | None:
    """The scope of a view: its decorator first, then the registry by view name, then by route."""
    decorated = getattr(view, SCOPE_ATTRIBUTE, None)
    if decorated is not None:
        return decorated
    autodiscover_scopes()
    scope = _registry.get(view_key(view))
    if scope is None and method and path:
        scope = _registry.get(route_key(method, path))
    return scope


@dataclass(frozen=True)
class Route:
    """One operation of the API: method, full path template and its view function."""

    method: str
    path: str
    view: Callable[..., Any]

    @property
    def scope(self) -> DataScope | None:
        """The operation's declared data scope (decorator or registry)."""
        return declared_scope(self.view, method=self.method, path=self.path)


def iter_routes(api: Any, mount: str = "/api") -> Iterator[Route]:
    """Every operation of a NinjaAPI, with its full path (``/api/orgs/{org_id}/members``).

    django-ninja lists nested routers (a module's ``api_router`` inside the plugins router) in
    ``api._routers`` only once it has bound the API, which building its URLs does; build them here
    so the answer does not depend on whether the URLconf was loaded before.
    """
    api.urls  # noqa: B018 -- the property binds every router once (cached by ninja)
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                full = "/" + "/".join(part.strip("/") for part in (mount, prefix, path) if part.strip("/"))
                if path.endswith("/"):
                    full += "/"
                for method in operation.methods:
                    yield Route(method=method, path=full, view=operation.view_func)
