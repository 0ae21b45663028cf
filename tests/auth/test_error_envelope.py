"""Errors of the accounts API and of authentication share the envelope of the other apps.

Bodies carry ``{error, message}`` like billing, entitlements and the runtime, and keep the
accounts API's old ``{code, detail}`` pair for existing clients; a database that cannot be
reached while a credential is checked is an outage (503, retry), not a bad credential (401).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import APIKey, Membership

pytestmark = pytest.mark.django_db


def _assert_envelope(body: dict[str, Any], code: str) -> None:
    assert body["error"] == body["code"] == code
    assert body["message"] == body["detail"]
    assert body["message"]


@pytest.fixture
def owner_key(make_user, make_team) -> str:
    """A read-only API key of a team owner."""
    owner = make_user("envelope@example.com")
    team = make_team(owner, name="Envelopes")
    membership = Membership.objects.get(user=owner, organization=team)
    return create_api_key(membership, name="ci", scopes=["read"]).secret


def test_an_api_key_checked_while_the_database_is_down_answers_503_with_retry_after(
    owner_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = owner_key

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(APIKey.objects, "select_related", unreachable)
    response = Client(raise_request_exception=False).get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    _assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
    assert "Connection refused" not in response.content.decode()


def test_a_refused_accounts_action_carries_error_and_message_besides_code_and_detail(
    make_user, make_team, client_for
) -> None:
    owner = make_user()
    team = make_team(owner, name="Refusals", plain__example_com="member")
    member = Membership.objects.get(organization=team, role="member").user
    refused = client_for(member).get(f"/api/orgs/{team.pk}/invitations")
    assert refused.status_code == 403
    _assert_envelope(refused.json(), "ROLE_REQUIRED")


def test_authentication_failures_on_any_route_use_the_same_envelope(owner_key) -> None:
    secret = owner_key
    anonymous = Client().get("/api/billing/subscription")
    assert anonymous.status_code == 401
    _assert_envelope(anonymous.json(), "AUTHENTICATION_REQUIRED")
    forged = Client().get("/api/me", headers={"Authorization": f"Bearer {secret[:-4]}abcd"})
    assert forged.status_code == 401
    _assert_envelope(forged.json(), "API_KEY_INVALID")
    read_only = Client().post("/api/ai/launch", {"capability_id": "x"}, content_type="application/json",
                              headers={"Authorization": f"Bearer {secret}"})
    assert read_only.status_code == 403
    _assert_envelope(read_only.json(), "SCOPE_REQUIRED")
    assert "read-only" in read_only.json()["detail"]


def test_a_database_outage_inside_an_endpoint_answers_503_with_retry_after_not_500(
    make_user, client_for, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mozaiks_core.runtime.models import ChatSession
    from mozaiks_core.workspace_info import app_id

    user = make_user("outage@example.com")
    client = client_for(user)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ChatSession.objects, "filter", unreachable)
    response = client.get(f"/api/sessions/list/{app_id()}/{user.pk}")
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    _assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
    assert "server closed" not in response.content.decode()  # the driver's message stays in the log
    assert "server closed the connection unexpectedly" in caplog.text
