"""The demo builder on the scripted model: a short chat stages a workflow and a page, an operator
promotes them, and the new workflow is listed in /chat/ and runs, without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from mozaiks_core.plugins.factory import promotion, staging
from mozaiks_core.plugins.models import StagedChange
from mozaiks_core.runtime.bundles import get_registry
from tests.plugins.conftest import REPO_ROOT
from tests.runtime.transport.conftest import Client, new_chat, socket_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(tmp_path: Path, settings: Any) -> Path:
    """The demo workspace (with its AppBuilder) copied as the live one."""
    app = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "app", app, ignore=shutil.ignore_patterns("__pycache__", ".mozaiks"))
    settings.MOZAIKS_APP_DIR = app
    settings.MOZAIKS_STAGING_DIR = tmp_path / "staging"
    get_registry(refresh=True)
    return app


async def _run(user: Any, workflow: str) -> tuple[Any, Client]:
    session = await database_sync_to_async(new_chat)(user, workflow)
    client = Client(await database_sync_to_async(socket_path)(session))
    assert await client.connect()
    return session, client


async def test_the_builder_stages_a_workflow_that_runs_in_chat_after_an_operator_promotes_it(
        live: Path, alice: Any) -> None:
    session, client = await _run(alice, "AppBuilder")
    await client.until("chat.text", agent="BuilderAgent")  # the welcome line
    question = await client.until("chat.text", agent="BuilderAgent")
    assert "called" in question["data"]["content"]
    request = await client.until("chat.input_request")
    await client.send({"type": "user.input.submit", "text": "MoonGreeter, and welcome people to the moon base",
                       "input_request_id": request["data"]["request_id"]})
    report = await client.until("chat.text", agent="BuilderAgent", timeout=30)
    assert "staged for review" in report["data"]["content"]
    assert (await client.until("chat.run_complete"))["data"]["status"] == "completed"
    await client.close()

    change = await database_sync_to_async(StagedChange.objects.get)()
    assert (change.status, change.origin, change.chat_id) == ("staged", "workflow", session.chat_id)
    assert not (live / "workflows" / "MoonGreeter").exists()
    assert get_registry().get("MoonGreeter") is None

    def operator_promotes() -> None:
        operator = get_user_model().objects.create_user(username="op", email="op@example.com", password="pw-123456789")
        staging.approve(change, operator)
        promotion.promote(change, operator)

    await database_sync_to_async(operator_promotes)()
    assert get_registry().get("MoonGreeter") is not None

    def chat_home_capabilities() -> Any:
        client = HttpClient()
        client.force_login(alice)
        return client.get("/api/ai/capabilities").json()  # what the /chat/ home page lists

    listed = await database_sync_to_async(chat_home_capabilities)()
    moon = next(entry for entry in listed["capabilities"] if entry["workflow_name"] == "MoonGreeter")
    assert moon["allowed"] is True
    assert moon["capability_source"] == "generated_module"
    _, client = await _run(alice, "MoonGreeter")
    greeting = await client.until("chat.text", agent="MoonGreeterAgent")
    assert greeting["data"]["content"] == "Welcome to the moon base!"
    assert (await client.until("chat.run_complete"))["data"]["status"] == "completed"
    await client.close()
