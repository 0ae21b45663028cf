"""Seats and API keys are limited where they are consumed: at invite, at accept, at key creation.

The demo catalog's Free plan allows 3 seats (members plus pending invitations) and 2 API keys.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from mozaiks_core.auth.models import Invitation, Membership, Organization
from mozaiks_core.entitlements.models import EntitlementOverride
from mozaiks_core.entitlements.services import decide

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]


@pytest.fixture(autouse=True)
def demo_catalog(transactional_db: None) -> None:
    """A transactional test starts from empty tables: load the demo app's catalog."""
    from mozaiks_core.billing.services import sync_plans

    sync_plans()


def _invite(client: Client, organization: Organization, email: str) -> Any:
    return client.post(f"/api/orgs/{organization.pk}/invitations", json.dumps({"email": email, "role": "member"}),
                       content_type="application/json")


def _new_key(client: Client, organization: Organization, name: str) -> Any:
    return client.post(f"/api/orgs/{organization.pk}/api-keys", json.dumps({"name": name}),
                       content_type="application/json")


def _fresh(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


def test_a_free_team_with_three_seats_taken_refuses_the_next_invitation_with_a_structured_402(
        make_user, make_team, client_for) -> None:
    owner = make_user("owner@example.com")
    team = make_team(owner, name="Seats")
    client = client_for(owner)
    assert [_invite(client, team, f"p{n}@example.com").status_code for n in (1, 2)] == [201, 201]
    assert decide(_fresh(team), "members").used == 3  # the owner and two pending invitations

    refused = _invite(client, team, "p3@example.com")
    assert refused.status_code == 402, refused.content
    body = refused.json()
    assert (body["error"], body["key"], body["limit"], body["used"]) == ("LIMIT_EXCEEDED", "members", 3, 3)
    assert "3 of 3 seats used on the Free plan" in body["message"]
    assert body["upgrade_url"].startswith("/billing/pricing")
    assert Invitation.objects.filter(organization=team, email="p3@example.com").count() == 0

    again = _invite(client, team, "p1@example.com")  # re-inviting the same address takes no second seat
    assert again.status_code == 201, again.content


def test_an_invitation_sent_before_a_downgrade_cannot_be_accepted_past_the_limit(make_user, make_team,
                                                                                  client_for) -> None:
    owner = make_user("owner2@example.com")
    team = make_team(owner, name="Shrink")
    client = client_for(owner)
    assert _invite(client, team, "late@example.com").status_code == 201
    path = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    for email in ("m1@example.com", "m2@example.com"):  # members added behind the limit's back (the admin)
        Membership.objects.create(user=make_user(email), organization=team, role="member")

    invitee = make_user("late@example.com")
    accepted = client_for(invitee).post("/api/invitations/accept", json.dumps({"token": token}),
                                        content_type="application/json")
    assert accepted.status_code == 402, accepted.content
    assert (accepted.json()["key"], accepted.json()["limit"], accepted.json()["used"]) == ("members", 3, 4)
    assert not Membership.objects.filter(organization=team, user=invitee).exists()
    assert Membership.objects.filter(organization=team).count() == 3  # nothing was deleted


def test_a_third_api_key_on_the_free_plan_is_refused_and_a_revoked_key_frees_its_place(make_user, make_team,
                                                                                       client_for) -> None:
    owner = make_user("keys@example.com")
    team = make_team(owner, name="Keys")
    client = client_for(owner)
    first, second = _new_key(client, team, "one"), _new_key(client, team, "two")
    assert (first.status_code, second.status_code) == (201, 201)
    decision = decide(_fresh(team), "api_keys")
    assert (decision.granted, decision.used, decision.limit, decision.remaining) == (False, 2, 2, 0)

    refused = _new_key(client, team, "three")
    assert refused.status_code == 402, refused.content
    body = refused.json()
    assert (body["error"], body["key"], body["limit"], body["used"]) == ("LIMIT_EXCEEDED", "api_keys", 2, 2)
    assert "2 of 2 API keys used" in body["message"]

    assert client.delete(f"/api/orgs/{team.pk}/api-keys/{first.json()['id']}").status_code == 200
    assert _new_key(client, team, "three").status_code == 201


def test_an_operator_override_raises_the_seat_limit_and_decide_reports_the_real_count(make_user, make_team,
                                                                                       client_for) -> None:
    owner = make_user("grow@example.com")
    team = make_team(owner, name="Grow")
    client = client_for(owner)
    for n in (1, 2):
        assert _invite(client, team, f"g{n}@example.com").status_code == 201
    assert _invite(client, team, "g3@example.com").status_code == 402
    EntitlementOverride.objects.create(organization=team, key="members", limit=5)
    assert _invite(client, team, "g3@example.com").status_code == 201
    decision = decide(_fresh(team), "members")
    assert (decision.granted, decision.used, decision.limit, decision.remaining) == (True, 4, 5, 1)


def test_the_organization_and_api_key_pages_say_how_much_of_the_plan_is_used_with_an_upgrade_link(
        make_user, make_team, client_for) -> None:
    owner = make_user("page@example.com")
    team = make_team(owner, name="Pages")
    client = client_for(owner)
    page = client.get(f"/orgs/{team.slug}/").content.decode()
    assert "1 of 3 seats used" in page
    assert "Upgrade your plan" not in page
    for n in (1, 2):
        assert _invite(client, team, f"v{n}@example.com").status_code == 201
    page = client.get(f"/orgs/{team.slug}/").content.decode()
    assert "3 of 3 seats used" in page
    assert 'href="/billing/pricing/?key=members">Upgrade your plan</a>' in page

    for name in ("a", "b"):
        assert _new_key(client, team, name).status_code == 201
    keys_page = client.get(f"/orgs/{team.slug}/api-keys/").content.decode()
    assert "2 of 2 API keys used" in keys_page
    refused = client.post(f"/orgs/{team.slug}/api-keys/", {"name": "c", "scopes": ["read"]}).content.decode()
    assert "2 of 2 API keys used on the Free plan" in refused
