"""Every ``/api/`` route declares its data scope, and org-scoped routes refuse other organizations.

The routes are enumerated from ``mozaiks_core.api.api`` (nothing is hand-picked), so routes
that later issues add are checked automatically. See docs/accounts.md for how to declare one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from mozaiks_core.api import api
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.scoping import Route, ScopedCall, iter_routes

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]
ROUTES = list(iter_routes(api))
ORG_ROUTES = [route for route in ROUTES if route.scope is not None and route.scope.kind == "organization"]
PLACEHOLDER = re.compile(r"\{(?:\w+:)?(\w+)\}")


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def _url(route: Route, call: ScopedCall) -> str:
    missing = [name for name in PLACEHOLDER.findall(route.path) if name not in call.path_params]
    assert not missing, f"{_route_id(route)}: the scope factory gives no value for {missing}"
    return PLACEHOLDER.sub(lambda match: str(call.path_params[match.group(1)]), route.path)


def _call(client: Client, route: Route, call: ScopedCall, organization_id: Any = None) -> Any:
    headers = {"HTTP_X_MOZAIKS_ORGANIZATION": str(organization_id)} if organization_id else {}
    url = _url(route, call)
    if route.method in {"GET", "DELETE"} and call.json is None:
        return getattr(client, route.method.lower())(url, call.query or None, **headers)
    return client.generic(route.method, url, json.dumps(call.json or {}), content_type="application/json", **headers)


def test_the_api_has_routes_to_check() -> None:
    assert len(ROUTES) >= 15
    assert ORG_ROUTES


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_every_api_route_declares_its_data_scope(route: Route) -> None:
    assert route.scope is not None, (
        f"{_route_id(route)} ({route.view.__module__}.{route.view.__name__}) declares no data scope; decorate it "
        "with @public, @caller_scoped or @org_scoped(factory) from mozaiks_core.auth.scoping (docs/accounts.md)."
    )


@pytest.mark.parametrize("route", [r for r in ROUTES if r.scope and r.scope.kind != "public"], ids=_route_id)
def test_every_non_public_route_refuses_anonymous_callers(route: Route) -> None:
    path = PLACEHOLDER.sub("1", route.path)
    response = Client().generic(route.method, path, "{}", content_type="application/json")
    assert response.status_code == 401, f"{_route_id(route)} answered {response.status_code} without credentials"


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_route_id)
def test_org_scoped_routes_refuse_other_organizations_and_serve_their_own(
    route: Route, make_user, make_team, client_for
) -> None:
    owner = make_user()
    team_a = make_team(owner, name="Team A")
    call = route.scope.factory(team_a, owner)  # type: ignore[union-attr]

    outsider = make_user()
    make_team(outsider, name="Team B")  # an owner (so an admin) of another organization
    foreign = client_for(outsider)
    by_path = bool(call.path_params) and not call.organization_from_header
    refused = _call(foreign, route, call) if by_path else _call(foreign, route, call, team_a.pk)
    assert refused.status_code in {403, 404}, (
        f"{_route_id(route)} let another organization's admin in ({refused.status_code}: {refused.content[:200]!r})"
    )
    if call.marker:
        assert call.marker not in refused.content.decode(errors="replace")
    if call.marker and not by_path:
        own_organization = _call(foreign, route, call)
        assert call.marker not in own_organization.content.decode(errors="replace")

    if route.scope.manage:  # type: ignore[union-attr]
        member = make_user()
        Membership.objects.create(user=member, organization=team_a, role=Membership.Role.MEMBER)
        denied = _call(client_for(member), route, call, team_a.pk)
        assert denied.status_code == 403, f"{_route_id(route)} let a plain member manage ({denied.status_code})"

    served = _call(client_for(owner), route, call, team_a.pk)
    assert served.status_code < 400, f"{_route_id(route)} refused its own owner: {served.content[:300]!r}"
    if call.marker:
        assert call.marker in served.content.decode(errors="replace")

