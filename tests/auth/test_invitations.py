"""Invitations: invite by email, accept as a new or existing user, revoke, resend, bad tokens."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from mozaiks_core.auth.models import Invitation, Membership
from tests.auth.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]  # emails leave on commit


def _invite(client: Client, org_id: int, email: str, role: str = "member"):
    return client.post(f"/api/orgs/{org_id}/invitations", json.dumps({"email": email, "role": role}),
                       content_type="application/json")


def _accept_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def team_and_owner(make_user, make_team, client_for):
    owner = make_user("boss@example.com")
    team = make_team(owner, name="Orbital")
    return team, client_for(owner)


def test_invitation_email_links_to_an_accept_page_and_stores_only_a_hash(team_and_owner) -> None:
    team, owner = team_and_owner
    response = _invite(owner, team.pk, "New.Person@Example.COM", "admin")
    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.com"
    assert "token" not in json.dumps(response.json())
    message = mail.outbox[-1]
    assert message.to == ["new.person@example.com"]
    assert "Orbital" in message.subject
    path = _accept_path(message)
    token = path.rstrip("/").rsplit("/", 1)[1]
    stored = Invitation.objects.get(email="new.person@example.com")
    assert stored.token_hash != token
    assert token not in stored.token_hash


def test_a_new_user_signs_up_from_the_link_without_a_second_verification_and_joins(team_and_owner) -> None:
    team, owner = team_and_owner
    _invite(owner, team.pk, "fresh@example.com", "admin")
    path = _accept_path(mail.outbox[-1])
    visitor = Client()
    landing = visitor.get(path)
    assert landing.status_code == 200
    assert "Create an account" in landing.content.decode()
    sent_before = len(mail.outbox)
    signup = visitor.post("/accounts/signup/", {"email": "fresh@example.com", "password1": PASSWORD,
                                                "password2": PASSWORD})
    assert signup.status_code == 302
    assert signup["Location"] == f"/orgs/{team.slug}/"
    assert len(mail.outbox) == sent_before, "the invitation already proved the address"
    membership = Membership.objects.get(user__email="fresh@example.com", organization=team)
    assert membership.role == "admin"
    assert visitor.get("/api/me").json()["organization_id"] == team.pk


def test_an_existing_user_accepts_after_signing_in_and_through_the_api(team_and_owner, make_user) -> None:
    team, owner = team_and_owner
    make_user("existing@example.com")
    _invite(owner, team.pk, "existing@example.com")
    path = _accept_path(mail.outbox[-1])
    visitor = Client()
    visitor.get(path)
    login = visitor.post("/accounts/login/", {"login": "existing@example.com", "password": PASSWORD})
    assert login.status_code == 302
    assert Membership.objects.filter(user__email="existing@example.com", organization=team).exists()

    other = make_user("another@example.com")
    _invite(owner, team.pk, "another@example.com")
    token = _accept_path(mail.outbox[-1]).rstrip("/").rsplit("/", 1)[1]
    api_client = Client()
    api_client.force_login(other)
    accepted = api_client.post("/api/invitations/accept", json.dumps({"token": token}),
                               content_type="application/json")
    assert accepted.status_code == 200
    assert accepted.json()["slug"] == team.slug


def test_a_signed_in_user_accepts_on_the_page(team_and_owner, make_user, client_for) -> None:
    team, owner = team_and_owner
    invitee = client_for(make_user("page@example.com"))
    _invite(owner, team.pk, "page@example.com")
    path = _accept_path(mail.outbox[-1])
    assert "Accept invitation" in invitee.get(path).content.decode()
    done = invitee.post(path)
    assert done.status_code == 302
    assert done["Location"] == f"/orgs/{team.slug}/"


def test_a_reused_token_is_refused(team_and_owner, make_user, client_for) -> None:
    team, owner = team_and_owner
    invitee = client_for(make_user("twice@example.com"))
    _invite(owner, team.pk, "twice@example.com")
    path = _accept_path(mail.outbox[-1])
    invitee.post(path)
    again = invitee.post(path)
    assert again.status_code == 410
    assert "already used" in again.content.decode()


def test_an_expired_token_is_refused_with_advice(team_and_owner, make_user, client_for) -> None:
    team, owner = team_and_owner
    invitee = client_for(make_user("late@example.com"))
    _invite(owner, team.pk, "late@example.com")
    Invitation.objects.filter(email="late@example.com").update(expires_at=timezone.now() - timedelta(seconds=1))
    response = invitee.post(_accept_path(mail.outbox[-1]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not Membership.objects.filter(user__email="late@example.com", organization=team).exists()


def test_a_foreign_token_for_another_address_is_refused(team_and_owner, make_user, client_for) -> None:
    team, owner = team_and_owner
    make_user("intended@example.com")
    thief = client_for(make_user("thief@example.com"))
    _invite(owner, team.pk, "intended@example.com")
    token = _accept_path(mail.outbox[-1]).rstrip("/").rsplit("/", 1)[1]
    response = thief.post("/api/invitations/accept", json.dumps({"token": token}), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "INVITATION_OTHER_EMAIL"
    assert not Membership.objects.filter(user__email="thief@example.com", organization=team).exists()


@pytest.mark.parametrize("token", ["x", "A" * 43, "../../etc/passwd" * 3, "ü" * 40, "0" * 150])
def test_made_up_tokens_get_a_clear_not_valid_answer(token: str, make_user, client_for) -> None:
    client = client_for(make_user())
    response = client.post("/api/invitations/accept", json.dumps({"token": token}), content_type="application/json")
    assert response.status_code in {404, 422}
    page = Client().get(f"/invitations/{token[:100].replace('/', '-')}/")
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_revoke_stops_the_link_and_resend_issues_a_new_one(team_and_owner, make_user, client_for) -> None:
    team, owner = team_and_owner
    invitee = client_for(make_user("resent@example.com"))
    invitation_id = _invite(owner, team.pk, "resent@example.com").json()["id"]
    first_path = _accept_path(mail.outbox[-1])

    revoked = owner.delete(f"/api/orgs/{team.pk}/invitations/{invitation_id}")
    assert revoked.json()["status"] == "revoked"
    assert invitee.post(first_path).status_code == 410

    resent = owner.post(f"/api/orgs/{team.pk}/invitations/{invitation_id}/resend")
    assert resent.json()["status"] == "pending"
    second_path = _accept_path(mail.outbox[-1])
    assert second_path != first_path
    assert invitee.post(first_path).status_code == 404, "the old link stopped working"
    assert invitee.post(second_path).status_code == 302
    listed = owner.get(f"/api/orgs/{team.pk}/invitations").json()
    assert listed == []


def test_inviting_a_current_member_or_with_an_unknown_role_is_refused(team_and_owner, make_user) -> None:
    team, owner = team_and_owner
    member = make_user("already@example.com")
    Membership.objects.create(user=member, organization=team)
    assert _invite(owner, team.pk, "already@example.com").json()["code"] == "ALREADY_MEMBER"
    assert _invite(owner, team.pk, "x@example.com", "emperor").json()["code"] == "ROLE_INVALID"
