"""Organizations through the JSON API: roles, ownership rules, the active organization."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mozaiks_core.api import api
from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.scoping import iter_routes
from tests.auth.test_org_scoping import _call, _route_id

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]
MANAGED = [route for route in iter_routes(api) if route.scope and route.scope.manage]


def _post(client: Client, path: str, body: dict, **headers: str):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("route", MANAGED, ids=_route_id)
def test_management_endpoints_give_members_403_and_other_organizations_admins_404(
    route, make_user, make_team, client_for
) -> None:
    owner = make_user()
    team = make_team(owner, name="Managed")
    call = route.scope.factory(team, owner)
    member = make_user()
    Membership.objects.create(user=member, organization=team, role=Membership.Role.MEMBER)
    member_reply = _call(client_for(member), route, call, team.pk)
    assert member_reply.status_code == 403
    assert member_reply.json()["code"] in {"ROLE_REQUIRED", "OWNER_REQUIRED"}

    stranger = make_user()
    make_team(stranger, name="Elsewhere")
    if call.path_params:
        stranger_reply = _call(client_for(stranger), route, call)
        assert stranger_reply.status_code == 404
        assert stranger_reply.json()["code"] == "NOT_FOUND"


def test_auth_endpoints_that_manage_members_and_keys_are_declared_manage_only() -> None:
    paths = {(route.method, route.path) for route in MANAGED}
    assert ("PATCH", "/api/orgs/{org_id}/members/{member_id}") in paths
    assert ("DELETE", "/api/orgs/{org_id}/members/{member_id}") in paths
    assert ("POST", "/api/orgs/{org_id}/invitations") in paths
    assert ("POST", "/api/orgs/{org_id}/api-keys") in paths
    assert ("DELETE", "/api/orgs/{org_id}/api-keys/{key_id}") in paths


def test_create_an_organization_and_list_it_with_the_personal_one(make_user, client_for) -> None:
    client = client_for(make_user("owner@example.com"))
    created = _post(client, "/api/orgs", {"name": "  Research   Lab "})
    assert created.status_code == 201
    assert created.json()["name"] == "Research Lab"
    assert created.json()["role"] == "owner"
    names = [org["name"] for org in client.get("/api/orgs").json()]
    assert sorted(names) == ["Research Lab", "owner's workspace"]


def test_the_active_organization_follows_the_session_and_the_header(make_user, make_team, client_for) -> None:
    user = make_user()
    team = make_team(user, name="Switchable")
    client = client_for(user)
    assert client.get("/api/me").json()["organization_slug"] != team.slug
    switched = _post(client, "/api/orgs/active", {"organization": team.slug})
    assert switched.status_code == 200
    assert client.get("/api/me").json()["organization_id"] == team.pk
    personal = Organization.objects.get(personal=True, memberships__user=user)
    per_call = client.get("/api/me", HTTP_X_MOZAIKS_ORGANIZATION=personal.slug)
    assert per_call.json()["organization_id"] == personal.pk
    assert client.get("/api/me").json()["organization_id"] == team.pk, "the header does not change the session"


def test_switching_to_or_naming_someone_elses_organization_is_refused(make_user, make_team, client_for) -> None:
    foreign = make_team(make_user(), name="Not Yours")
    client = client_for(make_user())
    switched = _post(client, "/api/orgs/active", {"organization": foreign.slug})
    assert switched.status_code == 404
    named = client.get("/api/me", HTTP_X_MOZAIKS_ORGANIZATION=str(foreign.pk))
    assert named.status_code == 403
    assert "not a member" in named.json()["detail"]


def test_the_last_owner_cannot_leave_or_step_down_but_can_after_transferring(
    make_user, make_team, client_for
) -> None:
    owner = make_user()
    team = make_team(owner, name="Keepers")
    successor = Membership.objects.create(user=make_user(), organization=team, role=Membership.Role.MEMBER)
    client = client_for(owner)
    mine = Membership.objects.get(user=owner, organization=team)

    leave = client.post(f"/api/orgs/{team.pk}/leave")
    assert leave.status_code == 409
    assert leave.json()["code"] == "LAST_OWNER"
    demote = client.patch(f"/api/orgs/{team.pk}/members/{mine.pk}", json.dumps({"role": "member"}),
                          content_type="application/json")
    assert demote.json()["code"] == "LAST_OWNER"

    transfer = _post(client, f"/api/orgs/{team.pk}/transfer", {"member_id": successor.pk})
    assert transfer.status_code == 200
    assert transfer.json()["role"] == "owner"
    mine.refresh_from_db()
    assert mine.role == "admin"
    assert client.post(f"/api/orgs/{team.pk}/leave").status_code == 204
    assert list(team.memberships.values_list("role", flat=True)) == ["owner"]


def test_admins_cannot_touch_owners_or_hand_out_ownership(make_user, make_team, client_for) -> None:
    owner = make_user()
    admin = make_user()
    team = make_team(owner, name="Layered")
    Membership.objects.create(user=admin, organization=team, role=Membership.Role.ADMIN)
    member = Membership.objects.create(user=make_user(), organization=team, role=Membership.Role.MEMBER)
    owner_row = Membership.objects.get(user=owner, organization=team)
    client = client_for(admin)

    assert client.delete(f"/api/orgs/{team.pk}/members/{owner_row.pk}").json()["code"] == "OWNER_REQUIRED"
    promote = client.patch(f"/api/orgs/{team.pk}/members/{member.pk}", json.dumps({"role": "owner"}),
                           content_type="application/json")
    assert promote.status_code == 403
    ok = client.patch(f"/api/orgs/{team.pk}/members/{member.pk}", json.dumps({"role": "admin"}),
                      content_type="application/json")
    assert ok.json()["role"] == "admin"
    assert _post(client, f"/api/orgs/{team.pk}/transfer", {"member_id": member.pk}).status_code == 403


def test_personal_workspaces_cannot_be_left_or_shared(make_user, client_for) -> None:
    user = make_user()
    personal = Organization.objects.get(personal=True, memberships__user=user)
    client = client_for(user)
    assert client.post(f"/api/orgs/{personal.pk}/leave").json()["code"] == "PERSONAL_ORGANIZATION"
    invite = _post(client, f"/api/orgs/{personal.pk}/invitations", {"email": "friend@example.com"})
    assert invite.json()["code"] == "PERSONAL_ORGANIZATION"


def test_unsafe_session_calls_need_the_csrf_token(make_user) -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    refused = _post(client, "/api/orgs", {"name": "No Token"})
    assert refused.status_code in {401, 403}
    client.get("/orgs/")
    token = client.cookies["csrftoken"].value
    accepted = _post(client, "/api/orgs", {"name": "With Token"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_leaving_at_the_same_moment_still_leave_one_owner(postgres_db, make_user, make_team) -> None:
    import threading

    from django.db import connection

    from mozaiks_core.auth.services import ActionRefused, leave_organization

    first, second = make_user(), make_user()
    team = make_team(first, name="Race")
    Membership.objects.create(user=second, organization=team, role=Membership.Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def leave(user) -> None:
        try:
            membership = Membership.objects.select_related("organization").get(user=user, organization=team)
            barrier.wait()
            leave_organization(membership)
            outcomes.append("left")
        except ActionRefused as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["LAST_OWNER", "left"]
    assert team.memberships.filter(role="owner").count() == 1
