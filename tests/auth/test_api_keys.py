"""API keys: shown once, stored hashed, scoped, expiring, revocable, and accepted by the API."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import APIKey, Membership

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]


def _bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def owner_client(make_user, make_team, client_for):
    owner = make_user("keys@example.com")
    team = make_team(owner, name="Keyholders")
    return team, client_for(owner)


def _create(client: Client, org_id: int, **body) -> dict:
    response = client.post(f"/api/orgs/{org_id}/api-keys", json.dumps({"name": "ci", **body}),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(owner_client) -> None:
    team, client = owner_client
    created = _create(client, team.pk)
    secret = created["secret"]
    assert secret.startswith(created["prefix"] + "_")
    stored = APIKey.objects.get(pk=created["id"])
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(client.get(f"/api/orgs/{team.pk}/api-keys").json())
    assert created["scopes"] == ["read", "write"]


def test_a_key_authenticates_as_its_organization_and_records_use_at_most_once_a_minute(owner_client) -> None:
    team, client = owner_client
    secret = _create(client, team.pk)["secret"]
    me = Client().get("/api/me", **_bearer(secret))
    assert me.status_code == 200
    assert me.json()["organization_id"] == team.pk
    assert me.json()["via"] == "api_key"
    assert me.json()["role"] == "member", "without the manage scope an owner's key acts as a member"
    first_use = APIKey.objects.get(prefix=secret[:12]).last_used_at
    assert first_use is not None
    Client().get("/api/me", **_bearer(secret))
    assert APIKey.objects.get(prefix=secret[:12]).last_used_at == first_use
    APIKey.objects.filter(prefix=secret[:12]).update(last_used_at=timezone.now() - timedelta(minutes=2))
    Client().get("/api/me", **_bearer(secret))
    assert APIKey.objects.get(prefix=secret[:12]).last_used_at > first_use


def test_a_key_cannot_reach_another_organization(owner_client, make_user, make_team) -> None:
    team, client = owner_client
    secret = _create(client, team.pk, scopes=["read", "write", "manage"])["secret"]
    other = make_team(make_user(), name="Other")
    assert Client().get(f"/api/orgs/{other.pk}/members", **_bearer(secret)).status_code == 404
    named = Client().get("/api/me", HTTP_X_MOZAIKS_ORGANIZATION=str(other.pk), **_bearer(secret))
    assert named.status_code == 403
    assert Client().get(f"/api/orgs/{team.pk}/api-keys", **_bearer(secret)).status_code == 200


def test_scopes_limit_what_a_key_may_do(owner_client) -> None:
    team, client = owner_client
    read_only = _create(client, team.pk, scopes=["read"])["secret"]
    writer = _create(client, team.pk, scopes=["read", "write"])["secret"]
    body = json.dumps({"name": "x"})
    refused = Client().post(f"/api/orgs/{team.pk}/api-keys", body, content_type="application/json",
                            **_bearer(read_only))
    assert refused.status_code == 403
    assert "read-only" in refused.json()["detail"]
    not_manager = Client().post(f"/api/orgs/{team.pk}/api-keys", body, content_type="application/json",
                                **_bearer(writer))
    assert not_manager.status_code == 403
    assert not_manager.json()["code"] == "ROLE_REQUIRED"


@pytest.mark.parametrize(
    "presented",
    ["mzk_", "mzk_zzzzzzzz_" + "a" * 43, "mzk_12345678_short", "mzk_12345678_" + "é" * 43, "mzk_" + "x" * 5000],
)
def test_malformed_or_unknown_keys_get_401_with_a_clear_message(presented: str) -> None:
    response = Client().get("/api/me", **_bearer(presented))
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_revoked_and_expired_keys_stop_working(owner_client) -> None:
    team, client = owner_client
    created = _create(client, team.pk)
    assert client.delete(f"/api/orgs/{team.pk}/api-keys/{created['id']}").json()["status"] == "revoked"
    revoked = Client().get("/api/me", **_bearer(created["secret"]))
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]

    expiring = _create(client, team.pk, expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    APIKey.objects.filter(pk=expiring["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().get("/api/me", **_bearer(expiring["secret"]))
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_a_guessed_secret_with_a_real_prefix_is_refused(owner_client) -> None:
    team, client = owner_client
    secret = _create(client, team.pk)["secret"]
    forged = secret[:13] + ("A" if secret[13] != "A" else "B") + secret[14:]
    assert Client().get("/api/me", **_bearer(forged)).status_code == 401


def test_a_key_stops_working_when_its_creator_leaves(owner_client, make_user) -> None:
    team, _ = owner_client
    admin = make_user()
    membership = Membership.objects.create(user=admin, organization=team, role=Membership.Role.ADMIN)
    created = create_api_key(membership, name="admin's key")
    assert Client().get("/api/me", **_bearer(created.secret)).status_code == 200
    membership.delete()
    assert Client().get("/api/me", **_bearer(created.secret)).status_code == 401


def test_the_api_keys_page_shows_a_new_key_once_and_revokes(owner_client) -> None:
    team, client = owner_client
    page = client.post(f"/orgs/{team.slug}/api-keys/", {"name": "from the page", "scopes": ["read"]})
    html = page.content.decode()
    key = APIKey.objects.get(name="from the page")
    assert 'data-testid="new-api-key"' in html
    assert key.prefix in html
    assert "mzk_" not in client.get(f"/orgs/{team.slug}/api-keys/").content.decode().replace(key.prefix, "")
    client.post(f"/orgs/{team.slug}/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.status == "revoked"


def test_members_do_not_see_the_api_keys_page(owner_client, make_user, client_for) -> None:
    team, _ = owner_client
    member = make_user()
    Membership.objects.create(user=member, organization=team)
    assert client_for(member).get(f"/orgs/{team.slug}/api-keys/").status_code == 403


def test_operators_create_organizations_and_keys_from_the_command_line(make_user) -> None:
    make_user("operator@example.com")
    out = StringIO()
    call_command("create_organization", "--name", "Ops Team", "--owner-email", "OPERATOR@example.com", stdout=out)
    assert "Ops Team" in out.getvalue()
    key_out = StringIO()
    call_command("create_api_key", "--organization", "ops-team", "--name", "cron", "--scopes", "read",
                 stdout=key_out, stderr=StringIO())
    secret = key_out.getvalue().strip()
    assert secret.startswith("mzk_")
    assert Client().get("/api/me", **_bearer(secret)).json()["organization_slug"] == "ops-team"
    with pytest.raises(CommandError, match="No user has the email"):
        call_command("create_organization", "--name", "X", "--owner-email", "ghost@example.com")
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "--organization", "ops-team", "--name", "x", "--scopes", "root",
                     stderr=StringIO())
    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_key", "--organization", "nope", "--name", "x", stderr=StringIO())
