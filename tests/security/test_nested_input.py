"""Deeply nested and oversized JSON/YAML, sent as an attacker would: over a real chat socket, to the
HTTP API, allauth's headless login, a validly signed Stripe webhook, module actions, and inside
workspace documents. Every one gets a structured refusal; none is a 500, a dropped socket or a leak.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import Client

from mozaiks_core.plugins.documents import DocumentReader
from mozaiks_core.runtime import services
from mozaiks_core.runtime.bundles.reader import ProblemCollector
from mozaiks_core.runtime.protocol.groups import chat_group
from mozaiks_core.runtime.transport.consumers import ChatConsumer
from tests.runtime.transport.conftest import Client as SocketClient
from tests.runtime.transport.conftest import new_chat, socket_path
from tests.runtime.transport.live import LiveSocket

NESTED = "[" * 3000 + "]" * 3000  # 6,000 bytes: the frame of the report
NESTED_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
# Nine aliases of nine aliases of ... : tiny as text, 9**7 values when anything walks it.
ALIAS_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(6))


def _assert_refused(response: Any, code: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["error"] == code, body
    assert "MOZAIKS_PARSE_MAX" in body["message"], body


# --- the chat socket -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
async def test_a_deeply_nested_frame_on_a_real_socket_gets_frame_too_deep_and_the_socket_stays_open(
        asgi_server: Any, alice: Any, server: str) -> None:
    live = await database_sync_to_async(asgi_server)(server=server)
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    path = await database_sync_to_async(socket_path)(chat)
    socket = await LiveSocket.open(f"{live.info['ws_url']}{path}", live.info["url"])
    await socket.until("chat_meta")
    for frame in (NESTED, NESTED_OBJECT, json.dumps({"type": "ui_tool_response", "eventId": "e1",
                                                     "response": json.loads("[" * 70 + "]" * 70)})):
        await socket.send(frame)
        error = await socket.until("chat.error")
        assert error["data"]["error_code"] == "FRAME_TOO_DEEP", error
        assert "MOZAIKS_PARSE_MAX_DEPTH" in error["data"]["message"]
        assert "seq" not in error
    await socket.send({"type": "client.resume", "last_seq": -1})
    assert (await socket.until("chat.resume_boundary"))["data"]["replayed_count"] == 0
    await socket.close()
    assert "RecursionError" not in live.log()


@pytest.mark.django_db(transaction=True)
async def test_a_consumer_whose_handler_raises_closes_1011_cancels_its_tasks_and_leaves_the_chat_group(
        alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[asyncio.Task[None]] = []
    consumers: list[ChatConsumer] = []

    async def broken(self: ChatConsumer, frame: Any) -> None:
        started.extend(self.tasks)
        consumers.append(self)
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(ChatConsumer, "_handle", broken)
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    client = SocketClient(await database_sync_to_async(socket_path)(chat))
    assert await client.connect()
    await client.until("chat_meta")
    group = chat_group(chat.chat_id)
    layer = get_channel_layer()
    assert layer.groups.get(group)
    await client.send({"type": "client.resume", "last_seq": -1})
    closed = await client.next()
    assert closed == {"type": "__closed__", "code": 1011}
    await asyncio.sleep(0.05)
    assert len(started) == 2, started  # the sender and the ping task
    assert all(task.done() for task in started), started
    assert not layer.groups.get(group), layer.groups.get(group)
    assert consumers[0].channel_name not in layer.receivers
    services_chat = await database_sync_to_async(services.chat_for)(
        alice, chat.chat_id, organization_id=chat.organization_id)
    assert services_chat is not None  # the chat itself is untouched


# --- HTTP bodies -----------------------------------------------------------------------------


@pytest.fixture
def member(alice: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT, '{"title": ' + NESTED + "}"])
def test_a_deeply_nested_module_action_body_answers_400_body_too_deep(member: Client, body: str) -> None:
    _assert_refused(member.post("/api/modules/tasks/create_task", body, content_type="application/json"),
                    "BODY_TOO_DEEP")


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"])
def test_a_deeply_nested_anonymous_headless_login_answers_400_body_too_deep(content_type: str) -> None:
    client = Client(raise_request_exception=False, enforce_csrf_checks=False)
    _assert_refused(client.post("/_allauth/browser/v1/auth/login", NESTED, content_type=content_type),
                    "BODY_TOO_DEEP")


@pytest.mark.django_db(transaction=True)
def test_a_deeply_nested_body_to_a_ninja_endpoint_answers_400_body_too_deep(member: Client) -> None:
    _assert_refused(member.post("/api/chats/mozaiks-demo/Chatter/start", '{"client_request_id": ' + NESTED + "}",
                                content_type="application/json"), "BODY_TOO_DEEP")


@pytest.mark.django_db
def test_a_validly_signed_deeply_nested_stripe_webhook_answers_400_body_too_deep(settings: Any) -> None:
    from tests.billing.support import WEBHOOK_SECRET, sign

    settings.STRIPE_SECRET_KEY = "sk_test_mozaiks"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    body = '{"id": "evt_1", "type": "invoice.paid", "data": ' + NESTED_OBJECT + "}"
    response = Client(raise_request_exception=False).post(
        "/billing/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body))
    _assert_refused(response, "BODY_TOO_DEEP")


@pytest.mark.django_db
def test_a_body_over_the_size_limit_answers_400_body_too_large_before_it_is_parsed(settings: Any) -> None:
    settings.MOZAIKS_PARSE_MAX_BYTES = 4096
    body = json.dumps({"email": "a@example.com", "password": "x" * 5000})
    _assert_refused(Client(raise_request_exception=False).post("/_allauth/browser/v1/auth/login", body,
                                                               content_type="application/json"), "BODY_TOO_LARGE")


@pytest.mark.django_db
def test_ordinary_bodies_with_many_brackets_and_brackets_inside_strings_still_pass() -> None:
    body = json.dumps({"email": "[" * 500 + "@example.com", "password": "{" * 500,
                       "rows": [[1, [2]] for _ in range(300)]})
    response = Client(raise_request_exception=False).post("/_allauth/browser/v1/auth/login", body,
                                                          content_type="application/json")
    assert response.status_code == 400, response.content
    assert "BODY_TOO" not in response.content.decode()  # allauth's own answer: the input is wrong


# --- workspace documents ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [ALIAS_BOMB, "x: &a [*a]", "- " * 900 + "x", "[" * 900 + "]" * 900])
def test_hostile_yaml_in_a_bundle_file_is_a_precise_problem_not_an_exception(tmp_path: Path, text: str) -> None:
    (tmp_path / "agents.yaml").write_text(text)
    check = ProblemCollector(tmp_path)
    assert check.read("agents.yaml") is None
    assert [problem.code for problem in check.problems] == ["bundle.too_complex"], check.problems
    assert "MOZAIKS_PARSE_MAX" in check.problems[0].message


@pytest.mark.parametrize(("name", "text"), [("module.yaml", ALIAS_BOMB), ("module.yaml", "x: &a [*a]"),
                                       ("app.json", NESTED)])
def test_hostile_documents_in_a_module_are_a_syntax_problem_not_an_exception(
        tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    problems: list[Any] = []
    assert DocumentReader(tmp_path, problems).read(tmp_path / name) is None
    assert len(problems) == 1, problems
    assert "MOZAIKS_PARSE_MAX" in problems[0].message, problems


def test_hostile_yaml_in_the_catalog_and_capabilities_is_a_problem_not_an_exception() -> None:
    from mozaiks_core.billing.catalog import parse_catalog_text
    from mozaiks_core.entitlements.capabilities import parse_capabilities_text

    catalog, problems = parse_catalog_text(ALIAS_BOMB, "subscriptions.yaml")
    assert catalog is None
    assert "MOZAIKS_PARSE_MAX_NODES" in problems[0].message, problems
    specs, problems = parse_capabilities_text("capabilities: " + "[" * 200 + "]" * 200, "capabilities.yaml")
    assert specs == []
    assert "MOZAIKS_PARSE_MAX_DEPTH" in problems[0].message, problems


def test_an_ordinary_yaml_document_with_anchors_and_merge_keys_still_loads(tmp_path: Path) -> None:
    text = "base: &base {max_turns: 5}\nworkflow:\n  <<: *base\n  name: Demo\n"
    (tmp_path / "orchestrator.yaml").write_text(text)
    check = ProblemCollector(tmp_path)
    assert check.read("orchestrator.yaml") == yaml.safe_load(text)
