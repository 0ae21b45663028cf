"""The HTTP side of the chat protocol: start, scoping, entitlements, capabilities, launch and export."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from mozaiks_core.entitlements.services import RunPermission
from mozaiks_core.runtime import services
from tests.runtime.transport.conftest import APP_ID, Client, new_chat, socket_path

pytestmark = pytest.mark.django_db(transaction=True)
ENVELOPE_KEYS = {"event_type", "seq", "occurred_at", "payload", "schema_version", "correlation_id", "process_id",
                 "causation_id", "metadata"}


def bearer(session: Any) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {services.issue_chat_token(session)}"})


def logged_in(user: Any) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def test_starting_a_chat_returns_a_ready_websocket_url_and_reuses_by_client_request_id(alice: Any) -> None:
    client = logged_in(alice)
    first = client.post(f"/api/chats/{APP_ID}/HelloUI/start", {"client_request_id": "r1"},
                        content_type="application/json")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["success"] is True
    assert body["reused"] is False
    assert body["websocket_url"].startswith(f"ws://testserver/ws/HelloUI/{APP_ID}/{body['chat_id']}/{alice.pk}")
    assert "access_token=" in body["websocket_url"]
    assert isinstance(body["cache_seed"], int)
    again = client.post(f"/api/chats/{APP_ID}/HelloUI/start", {"client_request_id": "r1"},
                        content_type="application/json").json()
    assert (again["chat_id"], again["reused"]) == (body["chat_id"], True)
    fresh = client.post(f"/api/chats/{APP_ID}/HelloUI/start", {"force_new": True},
                        content_type="application/json").json()
    assert fresh["chat_id"] != body["chat_id"]


def test_starting_needs_a_known_app_and_workflow_and_answers_with_structured_errors(alice: Any) -> None:
    client = logged_in(alice)
    unknown = client.post(f"/api/chats/{APP_ID}/NoSuchFlow/start", {}, content_type="application/json")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "WORKFLOW_NOT_FOUND"
    wrong_app = client.post("/api/chats/other-app/HelloUI/start", {}, content_type="application/json")
    assert wrong_app.status_code == 404
    assert wrong_app.json()["error"] == "APP_NOT_FOUND"
    anonymous = HttpClient().post(f"/api/chats/{APP_ID}/HelloUI/start", {}, content_type="application/json")
    assert anonymous.status_code == 401
    garbage = client.post(f"/api/chats/{APP_ID}/HelloUI/start", "{nope", content_type="application/json")
    assert garbage.status_code in (400, 422)


@pytest.mark.parametrize(("code", "status"), [("ENTITLEMENT_REQUIRED", 403), ("LIMIT_EXCEEDED", 402)])
def test_a_run_the_entitlements_refuse_is_denied_with_their_error_and_key(
    alice: Any, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    monkeypatch.setattr("mozaiks_core.entitlements.services.check_run_allowed", lambda **kwargs: RunPermission(
        False, code, "Upgrade to run this workflow.", {"key": "workflow.HelloUI"}))
    denied = logged_in(alice).post(f"/api/chats/{APP_ID}/HelloUI/start", {}, content_type="application/json")
    assert denied.status_code == status
    assert denied.json() == {"error": code, "message": "Upgrade to run this workflow.", "key": "workflow.HelloUI"}


def test_another_users_chat_does_not_exist_for_them(alice: Any, mallory: Any) -> None:
    chat = new_chat(alice, "HelloUI")
    intruder = logged_in(mallory)
    assert intruder.get(f"/api/chats/meta/{APP_ID}/{chat.chat_id}").status_code == 404
    assert intruder.get(f"/api/chats/exists/{APP_ID}/{chat.chat_id}").json()["exists"] is False
    assert intruder.get(f"/api/chats/{chat.chat_id}/events.ndjson").status_code == 404
    assert intruder.post("/api/user-input/submit", {"chat_id": chat.chat_id, "text": "hi"},
                         content_type="application/json").status_code == 404
    assert intruder.post(f"/api/chats/{chat.chat_id}/cancel", {}, content_type="application/json").status_code == 404
    assert intruder.get(f"/api/sessions/list/{APP_ID}/{alice.pk}").status_code == 404
    owner = logged_in(alice)
    assert owner.get(f"/api/chats/exists/{APP_ID}/{chat.chat_id}").json()["exists"] is True
    listed = owner.get(f"/api/sessions/list/{APP_ID}/{alice.pk}").json()["sessions"]
    assert [item["chat_id"] for item in listed] == [chat.chat_id]
    # A token is bound to its chat: it cannot read the owner's other chats either.
    other = new_chat(alice, "Chatter")
    assert bearer(other).get(f"/api/chats/meta/{APP_ID}/{chat.chat_id}").status_code == 404


def test_workflows_and_capabilities_list_what_loaded_and_launch_returns_a_token(alice: Any) -> None:
    client = logged_in(alice)
    names = [item["name"] for item in client.get("/api/workflows/catalog").json()["workflows"]]
    assert {"HelloUI", "Chatter"} <= set(names)
    capabilities = client.get("/api/ai/capabilities").json()["capabilities"]
    assert {"capability_id": "HelloUI", "allowed": True} in [
        {"capability_id": item["capability_id"], "allowed": item["allowed"]} for item in capabilities]
    launched = client.post("/api/ai/launch", {"capability_id": "HelloUI", "force_new": True},
                           content_type="application/json")
    assert launched.status_code == 200, launched.content
    body = launched.json()
    assert body["access_token"] in body["websocket_url"]
    assert body["capability_id"] == "HelloUI"
    missing = client.post("/api/ai/launch", {"capability_id": "Nope"}, content_type="application/json")
    assert missing.status_code == 404
    assert missing.json()["error"] == "CAPABILITY_NOT_FOUND"


@pytest.mark.dbmatrix
async def test_the_export_gives_the_frozen_envelope_with_a_causation_chain(alice: Any) -> None:
    session = await database_sync_to_async(new_chat)(alice, "HelloUI")
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    call = await client.until("chat.tool_call")
    await client.send({"type": "ui_tool_response", "eventId": call["data"]["eventId"], "response": {"name": "Ada"}})
    await client.until("chat.run_complete")
    await client.close()

    def export() -> tuple[int, str, str]:
        response = bearer(session).get(f"/api/chats/{session.chat_id}/events.ndjson")
        return response.status_code, response["Content-Type"], b"".join(response.streaming_content).decode()

    status, content_type, text = await database_sync_to_async(export)()
    assert status == 200
    assert content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["seq"] for line in lines] == list(range(len(lines))) == client.seqs()
    pattern = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    for index, line in enumerate(lines):
        assert set(line) == ENVELOPE_KEYS
        assert line["schema_version"] == "1.0.0"
        assert pattern.match(line["event_type"])
        assert line["correlation_id"] == session.chat_id
        expected_cause = None if index == 0 else lines[index - 1]["metadata"]["event_id"]
        assert line["causation_id"] == expected_cause
    assert [line["event_type"] for line in lines][-1] == "chat.run_complete"
