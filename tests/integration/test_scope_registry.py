"""The data-scope registry: app ``api_scopes`` modules declare views they cannot decorate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from mozaiks_core.api import api
from mozaiks_core.auth import scoping
from mozaiks_core.auth.scoping import PUBLIC, caller_scope, declared_scope, iter_routes, register_scopes, route_key


def _unregistered_view(request: Any) -> None:
    """A view nobody declared."""


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    """Each test's declarations vanish afterwards (the registry is process-wide)."""
    scoping.autodiscover_scopes()
    saved = dict(scoping._registry)
    yield
    scoping._registry.clear()
    scoping._registry.update(saved)


def test_a_decorator_wins_over_the_registry() -> None:
    @scoping.caller_scoped
    def decorated(request: Any) -> None:
        """Declared twice."""

    register_scopes({scoping.view_key(decorated): PUBLIC}, source="test")
    assert declared_scope(decorated).kind == "caller"  # type: ignore[union-attr]


def test_the_registry_finds_a_view_by_name_and_a_generic_operation_by_method_and_path() -> None:
    assert declared_scope(_unregistered_view) is None
    register_scopes({route_key("post", "/api/test/generic"): caller_scope()}, source="test")
    assert declared_scope(_unregistered_view, method="POST", path="/api/test/generic").kind == "caller"  # type: ignore[union-attr]
    assert declared_scope(_unregistered_view, method="GET", path="/api/test/generic") is None


def test_declaring_one_key_twice_differently_is_refused_with_the_source_named() -> None:
    register_scopes({"tests.some.view": PUBLIC}, source="first")
    register_scopes({"tests.some.view": PUBLIC}, source="again")  # the same declaration is harmless
    with pytest.raises(ImproperlyConfigured, match=r"second.*already has a different data scope"):
        register_scopes({"tests.some.view": caller_scope()}, source="second")
    with pytest.raises(ImproperlyConfigured, match="not a DataScope"):
        register_scopes({"tests.other.view": "public"}, source="third")  # type: ignore[dict-item]


def test_module_actions_get_scopes_derived_from_module_yaml() -> None:
    scopes = {(route.method, route.path): route.scope for route in iter_routes(api)}
    listing = scopes[("GET", "/api/modules/tasks/list_tasks")]
    assert listing is not None
    assert (listing.kind, listing.manage) == ("organization", False)
    activity = scopes[("GET", "/api/modules/audit/activity")]  # audit.view is held by owners and admins only
    assert activity is not None
    assert (activity.kind, activity.manage) == ("organization", True)


def test_every_registered_declaration_names_a_mounted_view_or_route() -> None:
    scoping.autodiscover_scopes()
    routes = list(iter_routes(api))
    known = {scoping.view_key(route.view) for route in routes} | {route_key(r.method, r.path) for r in routes}
    stale = sorted(set(scoping._registry) - known)
    assert not stale, f"api_scopes declarations for views or routes that no longer exist: {stale}"


def test_routes_of_nested_routers_are_listed_before_the_api_has_built_its_urls() -> None:
    """A module's ``api_router`` is nested in the plugins router; ninja lists nested routers only
    once the API is bound, so the check must not depend on the URLconf having loaded first."""
    from ninja import NinjaAPI, Router

    parent, child = Router(), Router()
    parent.get("/top")(_unregistered_view)
    child.get("/nested")(_unregistered_view)
    parent.add_router("/child", child)
    fresh = NinjaAPI(urls_namespace="scope-registry-test")
    fresh.add_router("/parent", parent)
    assert {route.path for route in iter_routes(fresh)} == {"/api/parent/top", "/api/parent/child/nested"}
