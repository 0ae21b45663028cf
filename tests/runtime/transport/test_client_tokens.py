"""Client tokens: one organization-bound token a single-page client holds for all of its user's chats.

As the MozaiksAI ChatUI uses it: Bearer on HTTP, ``?access_token=`` on the socket, for chats it did
not start itself (``?chat_id=`` links, finished chats). Refusals use today's codes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from mozaiks_core.auth.client_tokens import issue_client_token
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import APP_ID, Client, new_chat, socket_path, store_events

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(user: Any, organization: Any = None) -> str:
    organization = organization or user.memberships.first().organization
    return issue_client_token(user_id=user.pk, organization_id=organization.pk)[0]


def expired_token(user: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    real = time.time
    monkeypatch.setattr("mozaiks_core.auth.client_tokens.time.time", lambda: real() - 3600)
    token = token_for(user)
    monkeypatch.setattr("mozaiks_core.auth.client_tokens.time.time", real)
    return token


def bearer(token: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {token}"})


def test_a_signed_in_session_gets_a_client_token_and_refreshes_it_with_itself(alice: Any) -> None:
    session = HttpClient(enforce_csrf_checks=True)
    session.force_login(alice)
    issued = session.post("/api/auth/client-token", {}, content_type="application/json",
                          HTTP_ORIGIN="http://testserver")
    assert issued.status_code == 200, issued.content
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert 60 <= body["expires_in"] <= 3600
    assert body["organization"]["id"] == str(alice.memberships.first().organization_id)
    refreshed = bearer(body["access_token"]).post("/api/auth/client-token", {}, content_type="application/json")
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != body["access_token"]


def test_a_cookie_post_from_another_origin_or_without_origin_still_needs_the_csrf_token(alice: Any) -> None:
    session = HttpClient(enforce_csrf_checks=True)
    session.force_login(alice)
    for origin in ({"HTTP_ORIGIN": "https://evil.example"}, {}, {"HTTP_ORIGIN": "http://testserver",
                                                                  "HTTP_SEC_FETCH_SITE": "cross-site"}):
        refused = session.post(f"/api/chats/{APP_ID}/Chatter/start", {}, content_type="application/json", **origin)
        assert refused.status_code == 403, origin
    form = session.post(f"/api/chats/{APP_ID}/Chatter/start", {"force_new": "1"}, HTTP_ORIGIN="http://testserver")
    assert form.status_code == 403  # a form post (not JSON) is no same-origin JSON request
    accepted = session.post(f"/api/chats/{APP_ID}/Chatter/start", {}, content_type="application/json",
                            HTTP_ORIGIN="http://testserver")
    assert accepted.status_code == 200, accepted.content


def test_a_client_token_reaches_its_users_chats_of_its_organization_only(alice: Any, mallory: Any) -> None:
    chat = new_chat(alice, "Chatter")
    team = create_organization(name="Alice Team", owner=alice)
    elsewhere, _ = services.create_chat(user=alice, organization=team, app_id=APP_ID, workflow="Chatter",
                                        force_new=True)
    token = token_for(alice)
    assert bearer(token).get(f"/api/chats/meta/{APP_ID}/{chat.chat_id}").status_code == 200
    assert bearer(token).get(f"/api/chats/meta/{APP_ID}/{elsewhere.chat_id}").status_code == 404
    assert bearer(token).get(f"/api/chats/exists/{APP_ID}/Chatter/{elsewhere.chat_id}").json()["exists"] is False
    assert bearer(token_for(mallory)).get(f"/api/chats/meta/{APP_ID}/{chat.chat_id}").status_code == 404
    assert bearer(token).get("/api/orgs").json()[0]["id"] == chat.organization_id  # its organization only


def test_an_api_key_or_execution_token_cannot_mint_client_tokens(alice: Any) -> None:
    chat = new_chat(alice, "Chatter")
    refused = bearer(services.issue_chat_token(chat)).post("/api/auth/client-token", {},
                                                            content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"] == "TOKEN_SCOPE"  # an execution token reaches only its chat's surface


def test_an_expired_or_revoked_client_token_is_refused_with_todays_codes(
    alice: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    expired = bearer(expired_token(alice, monkeypatch)).get("/api/workflows")
    assert (expired.status_code, expired.json()["error"]) == (401, "TOKEN_EXPIRED")
    team = create_organization(name="Alice Team", owner=alice)
    token = token_for(alice, team)
    assert bearer(token).get("/api/workflows").status_code == 200
    Membership.objects.filter(user=alice, organization=team).delete()  # removed: checked at every use
    revoked = bearer(token).get("/api/workflows")
    assert (revoked.status_code, revoked.json()["error"]) == (401, "TOKEN_INVALID")
    forged = bearer(token[:-4] + "AAAA").get("/api/workflows")
    assert (forged.status_code, forged.json()["error"]) == (401, "TOKEN_INVALID")


def test_an_unknown_api_path_answers_a_json_404(alice: Any) -> None:
    missing = bearer(token_for(alice)).get("/api/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NOT_FOUND"


async def test_one_client_token_opens_a_linked_chat_and_a_finished_one_on_the_socket(alice: Any) -> None:
    linked = await database_sync_to_async(new_chat)(alice, "Chatter")  # never started through /start
    finished = await database_sync_to_async(new_chat)(alice, "Chatter")
    await database_sync_to_async(store_events)(finished, 2)
    await database_sync_to_async(ChatSession.objects.filter(pk=finished.pk).update)(status="completed")
    token = await database_sync_to_async(token_for)(alice)
    for chat in (linked, finished):
        client = Client(await database_sync_to_async(socket_path)(chat, token))
        assert await client.connect()
        assert (await client.next())["type"] == "chat_meta"
        await client.close()
    reopened = Client(await database_sync_to_async(socket_path)(finished, token))
    assert await reopened.connect()
    await reopened.next()
    await reopened.next()
    assert (await reopened.next())["seq"] == 1


async def test_a_client_token_of_another_user_organization_or_expired_closes_the_socket_with_1008(
    alice: Any, mallory: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    team = await database_sync_to_async(create_organization)(name="Alice Team", owner=alice)
    cases = [
        (await database_sync_to_async(token_for)(mallory), "CHAT_ACCESS_DENIED"),
        (await database_sync_to_async(token_for)(alice, team), "CHAT_ACCESS_DENIED"),
        (await database_sync_to_async(expired_token)(alice, monkeypatch), "TOKEN_EXPIRED"),
    ]
    for token, code in cases:
        client = Client(await database_sync_to_async(socket_path)(chat, token))
        assert await client.connect()
        error = await client.next()
        assert error["data"]["error_code"] == code
        assert (await client.next())["code"] == 1008
