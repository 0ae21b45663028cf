"""The MozaiksAI ChatUI's exact requests and frames, replayed: what the client needs is there.

``fixtures_chatui_session.json`` was captured once from the real client (BlocUnited-LLC/mozaiks
chat-ui, built with ``examples/chatui-host``) running a whole ProductLaunch chat in Chromium.
The suite replays it without npm or the client's repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from mozaiks_core.runtime.models import ChatSession
from tests.runtime.transport.conftest import APP_ID, Client

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURE = json.loads((Path(__file__).parent / "fixtures_chatui_session.json").read_text())
SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}


def recorded(method: str, path_start: str) -> dict[str, Any]:
    """The client's recorded request of ``method`` whose path starts with ``path_start``."""
    return next(entry for entry in FIXTURE["http"]
                if entry["method"] == method and entry["path"].startswith(path_start))


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def browser(user: Any) -> HttpClient:
    """The signed-in browser: the session cookie, CSRF checks on, and no CSRF token (as the ChatUI)."""
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def replay(client: HttpClient, entry: dict[str, Any], values: dict[str, str]) -> Any:
    """Send one recorded request as the client did: its headers (a Bearer client token or the cookie alone)."""
    headers: dict[str, str] = {}
    for name, value in entry["headers"].items():
        if name.lower() == "authorization":
            headers["HTTP_AUTHORIZATION"] = fill(value, values)
    path = fill(entry["path"], values)
    if entry["method"] == "GET":
        return client.get(path, **headers)
    body = json.loads(fill(json.dumps(entry["body"]), values)) if entry["body"] is not None else {}
    return client.post(path, body, content_type="application/json", **headers, **SAME_ORIGIN)


async def test_the_chatuis_recorded_session_replays_with_every_answer_it_needs(alice: Any) -> None:
    client = await database_sync_to_async(browser)(alice)
    values = {"user_id": str(alice.pk)}
    token = await database_sync_to_async(replay)(client, recorded("POST", "/api/auth/client-token"), values)
    assert token.status_code == 200, token.content
    values["client_token"] = token.json()["access_token"]
    assert token.json()["user"]["id"] == str(alice.pk)  # the ChatUI's currentUserId

    workflows = await database_sync_to_async(replay)(client, recorded("GET", "/api/workflows"), values)
    assert workflows.status_code == 200
    product_launch = workflows.json()["ProductLaunch"]
    assert product_launch["entry_point"] is True
    assert next(iter(workflows.json())) == "ProductLaunch"  # the client's default is the first entry
    assert product_launch["startup_mode"] == "AgentDriven"
    assert "IntakeAgent" in product_launch["visual_agents"]
    general = await database_sync_to_async(replay)(client, recorded("GET", "/api/general_chats/list/"), values)
    assert general.json() == {"sessions": [], "count": 0}
    theme = await database_sync_to_async(replay)(client, recorded("GET", "/api/themes/"), values)
    assert theme.status_code == 200
    assert theme.json()["theme"]["colors"]["primary"]["main"].startswith("#")

    start = await database_sync_to_async(replay)(client, recorded("POST", "/api/chats/"), values)
    assert start.status_code == 200, start.content
    values["chat_id"] = start.json()["chat_id"]
    transport = await database_sync_to_async(replay)(client, recorded("GET", "/api/workflows/"), values)
    assert transport.json()["transport"] == "websocket"

    socket = Client(fill(FIXTURE["socket_url"], {**values, "workflow": "ProductLaunch", "app_id": APP_ID}))
    assert await socket.connect()
    meta = await socket.next()
    assert meta["chat_exists"] is True
    call = await socket.until("chat.tool_call")
    assert call["data"]["agent"] == "IntakeAgent"  # the form's bubble is named after its agent
    assert call["data"]["component_type"] == "LaunchBriefForm"
    values["event_id"] = call["data"]["eventId"]
    answer = await database_sync_to_async(replay)(client, recorded("POST", "/api/ui-tool/submit"), values)
    assert answer.status_code == 200, answer.content  # a cookie-only JSON POST from the same origin
    request = await socket.until("chat.input_request")
    speakers = [frame["data"]["agent"] for frame in socket.frames if frame["type"] == "chat.select_speaker"]
    assert "user" not in speakers
    values["input_request_id"] = request["data"]["request_id"]

    by_type = {frame["type"]: frame for frame in FIXTURE["sent_frames"]}
    await socket.send(fill(json.dumps(by_type["client.resume"]), values))
    boundary = await socket.until("chat.resume_boundary")
    assert boundary["data"]["replayed_events"] == 0
    await socket.send(fill(json.dumps(by_type["chat.switch_workflow"]), values))
    switched = await socket.until("chat.context_switched")
    assert switched["data"]["to_chat_id"] == values["chat_id"]

    another_device = Client(fill(FIXTURE["socket_url"], {**values, "workflow": "ProductLaunch", "app_id": APP_ID}))
    assert await another_device.connect()
    await another_device.until("chat.input_request")
    assert another_device.seqs() == socket.seqs()  # the whole transcript, in seq order

    await socket.send(fill(json.dumps(by_type["user.input.submit"]), values))
    assert (await socket.until("chat.input_ack"))["data"]["status"] == "accepted"
    done = await socket.until("chat.run_complete")
    assert done["data"]["reason"] == "finished"
    assert done["data"]["total_tokens"] > 0
    assert done["data"]["duration_sec"] >= 0
    exists = await database_sync_to_async(replay)(client, recorded("GET", "/api/chats/exists/"), values)
    assert exists.json()["exists"] is True
    assert {frame["type"] for frame in socket.frames} >= set(FIXTURE["received_types"]) - {"chat.error"}
    await socket.close()
    await another_device.close()


async def test_an_answered_artifact_is_dismissed_and_no_longer_restored(alice: Any) -> None:
    from tests.runtime.transport.conftest import new_chat, socket_path

    session = await database_sync_to_async(new_chat)(alice, "HelloArtifact")
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    call = await client.until("chat.tool_call")
    assert call["data"]["display"] == "artifact"
    await client.send({"type": "ui.tool.response", "eventId": call["data"]["eventId"], "response": {"name": "Ada"}})
    dismissed = await client.until("chat.ui_tool_dismiss")
    assert dismissed["data"]["event_id"] == call["data"]["eventId"]
    await client.until("chat.run_complete")
    stored = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert stored.last_artifact is None
    await client.close()


@pytest.mark.parametrize(("frame_type", "feature"), [
    ("chat.enter_general_mode", "general_mode"), ("chat.start_general_chat", "general_mode"),
    ("chat.artifact_action", "artifact_actions"),
])
async def test_a_mozaiksai_feature_this_server_lacks_is_refused_by_name_and_the_socket_stays_open(
    alice: Any, frame_type: str, feature: str,
) -> None:
    from tests.runtime.transport.conftest import new_chat, socket_path

    session = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    await client.send({"type": frame_type, "chat_id": session.chat_id})
    error = await client.until("chat.error")
    assert (error["data"]["error_code"], error["data"]["feature"]) == ("FEATURE_UNSUPPORTED", feature)
    await client.send({"type": "chat.nonsense"})
    assert (await client.until("chat.error"))["data"]["error_code"] == "SCHEMA_VALIDATION_FAILED"
    await client.send({"type": "client.resume", "last_seq": -1})
    await client.until("chat.resume_boundary")
    await client.close()
