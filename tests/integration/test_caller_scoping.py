"""Caller-scoped ``/api/`` routes serve only their caller: a colleague in the same organization and
another organization's admin never see (or act on) the owner's chats, requests or sessions.

Routes are enumerated like tests/auth/test_org_scoping.py; every caller-scoped route whose
declaration carries a factory (``caller_scope(factory)``) is checked, and the chat routes must.
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
CALLER_ROUTES = [route for route in ROUTES if route.scope is not None and route.scope.kind == "caller"
                 and route.scope.factory is not None]
PLACEHOLDER = re.compile(r"\{(?:\w+:)?(\w+)\}")


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def _call(client: Client, route: Route, call: ScopedCall, organization_id: Any = None) -> Any:
    headers = {"HTTP_X_MOZAIKS_ORGANIZATION": str(organization_id)} if organization_id else {}
    url = PLACEHOLDER.sub(lambda match: str(call.path_params[match.group(1)]), route.path)
    if route.method in {"GET", "DELETE"} and call.json is None:
        return getattr(client, route.method.lower())(url, call.query or None, **headers)
    return client.generic(route.method, url, json.dumps(call.json or {}), content_type="application/json", **headers)


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def test_every_chat_route_proves_that_it_serves_only_its_caller() -> None:
    checked = {route.path for route in CALLER_ROUTES}
    chat_routes = {route.path for route in ROUTES if route.view.__module__ == "mozaiks_core.runtime.api"
                   and re.search(r"chat|session|ui-tool|user-input|launch", route.path)}
    assert chat_routes, "the runtime mounts no chat routes"
    assert chat_routes <= checked, f"chat routes without a caller_scope(factory): {sorted(chat_routes - checked)}"


@pytest.mark.parametrize("route", CALLER_ROUTES, ids=_route_id)
def test_a_caller_scoped_route_hides_the_owners_data_from_colleagues_and_other_organizations(
    route: Route, make_user, make_team, client_for
) -> None:
    owner = make_user()
    team = make_team(owner, name="Team A")
    call = route.scope.factory(team, owner)  # type: ignore[union-attr]
    assert call.marker, f"{_route_id(route)}: a caller-scope factory must name a marker"

    colleague = make_user()
    Membership.objects.create(user=colleague, organization=team, role=Membership.Role.ADMIN)
    outsider = make_user()
    make_team(outsider, name="Team B")
    for who, client, organization_id in (("an admin of the same organization", client_for(colleague), team.pk),
                                         ("another organization's admin", client_for(outsider), None)):
        answer = _call(client, route, call, organization_id)
        body = _body(answer)
        assert answer.status_code < 500, f"{_route_id(route)} failed for {who}: {body[:300]!r}"
        assert call.marker not in body, f"{_route_id(route)} showed the owner's data to {who}: {body[:300]!r}"

    served = _call(client_for(owner), route, call, team.pk)
    body = _body(served)
    assert served.status_code < 400, f"{_route_id(route)} refused its own caller: {body[:300]!r}"
    assert call.marker in body, f"{_route_id(route)} did not show its caller the marker: {body[:300]!r}"
