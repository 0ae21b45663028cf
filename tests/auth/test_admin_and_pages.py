"""Operator admin pages and the server-rendered organization pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.invitations import invite_member
from mozaiks_core.auth.models import APIKey, Invitation, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user, client_for):
    user = make_user("operator@example.com")
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return client_for(user)


@pytest.fixture
def stocked_team(make_user, make_team):
    owner = make_user("owner@example.com")
    team = make_team(owner, name="Stocked")
    actor = Membership.objects.get(user=owner, organization=team)
    invite_member(actor, email="pending@example.com")
    create_api_key(actor, name="deploy bot")
    return team


@pytest.mark.parametrize(
    "path",
    [
        "/admin/mozaiks_auth/organization/",
        "/admin/mozaiks_auth/invitation/",
        "/admin/mozaiks_auth/apikey/",
        "/admin/auth/user/",
        "/admin/mozaiks_auth/organization/?personal__exact=0&q=owner%40example.com",
        "/admin/mozaiks_auth/apikey/?q=deploy",
        "/admin/auth/user/?memberships__role=owner&q=Stocked",
    ],
)
def test_admin_lists_search_and_filter(path: str, operator, stocked_team) -> None:
    response = operator.get(path)
    assert response.status_code == 200
    assert "Stocked" in response.content.decode() or "deploy bot" in response.content.decode()


def test_admin_organization_page_shows_members_inline(operator, stocked_team) -> None:
    response = operator.get(f"/admin/mozaiks_auth/organization/{stocked_team.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "owner@example.com" in html or "memberships-0-user" in html
    assert "billing and usage" in html.lower()


def test_admin_user_page_lists_organizations(operator, stocked_team) -> None:
    owner = get_user_model().objects.get(email="owner@example.com")
    response = operator.get(f"/admin/auth/user/{owner.pk}/change/")
    assert response.status_code == 200
    assert "organization membership" in response.content.decode().lower()


def test_admin_revoke_actions_revoke_keys_and_invitations(operator, stocked_team) -> None:
    key = APIKey.objects.get(name="deploy bot")
    operator.post("/admin/mozaiks_auth/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.status == "revoked"
    invitation = Invitation.objects.get(email="pending@example.com")
    operator.post("/admin/mozaiks_auth/invitation/", {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


def test_admin_never_shows_key_hashes_in_lists_and_cannot_add_keys(operator, stocked_team) -> None:
    key = APIKey.objects.get(name="deploy bot")
    assert key.key_hash not in operator.get("/admin/mozaiks_auth/apikey/").content.decode()
    assert operator.get("/admin/mozaiks_auth/apikey/add/").status_code == 403


def test_organization_pages_create_invite_and_switch(make_user, client_for, django_capture_on_commit_callbacks) -> None:
    client = client_for(make_user("pages@example.com"))
    listing = client.get("/orgs/")
    assert listing.status_code == 200
    assert 'class="shell-header"' in listing.content.decode()
    created = client.post("/orgs/", {"name": "Page Team"})
    assert created["Location"] == "/orgs/page-team/"
    detail = client.get("/orgs/page-team/").content.decode()
    assert "Invite someone" in detail
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post("/orgs/page-team/", {"email": "friend@example.com", "role": "member"})
    assert invited.status_code == 302
    assert mail.outbox[-1].to == ["friend@example.com"]
    assert "friend@example.com" in client.get("/orgs/page-team/").content.decode()
    assert client.get("/api/me").json()["organization_slug"] == "page-team"


def test_members_see_the_member_list_but_no_management_controls(make_user, make_team, client_for) -> None:
    team = make_team(make_user(), name="Viewers")
    member = make_user()
    Membership.objects.create(user=member, organization=team)
    page = client_for(member).get(f"/orgs/{team.slug}/").content.decode()
    assert "Members" in page
    assert "Invite someone" not in page
    assert "Remove" not in page
    refused = client_for(member).post(f"/orgs/{team.slug}/do/remove/", {"member": "1"}, follow=True)
    assert "Only owners and admins" in refused.content.decode()


def test_organization_pages_of_others_are_not_found(make_user, make_team, client_for) -> None:
    team = make_team(make_user(), name="Private")
    outsider = client_for(make_user())
    assert outsider.get(f"/orgs/{team.slug}/").status_code == 404
    assert outsider.get(f"/orgs/{team.slug}/api-keys/").status_code == 404
    assert outsider.post(f"/orgs/{team.slug}/do/leave/").status_code == 404


def test_the_organizations_page_switches_the_active_organization(make_user, make_team, client_for) -> None:
    user = make_user()
    team = make_team(user, name="Switch Page")
    client = client_for(user)
    assert "Make active" in client.get("/orgs/").content.decode()
    client.post("/orgs/switch/", {"organization": str(team.pk)})
    assert client.get("/api/me").json()["organization_slug"] == "switch-page"
    foreign = make_team(make_user(), name="Not Mine")
    refused = client.post("/orgs/switch/", {"organization": str(foreign.pk)}, follow=True)
    assert "No such organization among yours" in refused.content.decode()
    assert client.get("/api/me").json()["organization_slug"] == "switch-page"
