"""End to end: a free plan's token budget runs out through real runs, and an upgrade lifts it.

Everything is the real product: the chat start and launch APIs, the WebSocket consumer, the
in-process run executor, the AG2 engine with the scripted model (120,000 tokens a run, see
workflows/QuotaBurner), token metering into the entitlements ledger, the structured denials,
and a plan change through the local billing adapter's checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from mozaiks_core.asgi import application
from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.billing.services import effective_plan, sync_plans
from mozaiks_core.entitlements.services import check_token_budget
from mozaiks_core.runtime.bundles import get_registry
from mozaiks_core.runtime.models import UsageRecord

WORKFLOWS = Path(__file__).parent / "workflows"
WORKFLOW = "QuotaBurner"
APP_ID = "mozaiks-demo"
TOKENS_PER_RUN = 120_000
ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbmatrix]


@pytest.fixture(autouse=True)
def quota_workflow(settings: Any) -> Any:
    """Serve the QuotaBurner bundle on the in-process executor with the scripted model."""
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(WORKFLOWS)]
    settings.MOZAIKS_RUN_EXECUTOR = "asyncio"
    settings.MOZAIKS_LLM_PROVIDER = "scripted"
    settings.MOZAIKS_LLM_SCRIPT = ""
    get_registry(refresh=True)
    yield
    get_registry(refresh=True)


def _owner_on_the_free_plan() -> tuple[Any, Client]:
    sync_plans()  # a transactional test starts from empty tables: load the app's catalog
    user = get_user_model().objects.create_user(username="quota@example.com", email="quota@example.com",
                                                password="pw-123456789")
    organization = ensure_personal_organization(user)
    client = Client()
    client.force_login(user)
    return organization, client


def _start(client: Client) -> Any:
    return client.post(f"/api/chats/{APP_ID}/{WORKFLOW}/start", {"force_new": True}, content_type="application/json")


def _launch(client: Client) -> Any:
    return client.post("/api/ai/launch", {"capability_id": WORKFLOW, "force_new": True},
                       content_type="application/json")


async def _run(websocket_url: str) -> list[dict[str, Any]]:
    """Connect to the chat (the AgentDriven run starts) and collect frames until the run completes."""
    parts = urlsplit(websocket_url)
    communicator = WebsocketCommunicator(application, f"{parts.path}?{parts.query}", headers=[ORIGIN, HOST])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    frames: list[dict[str, Any]] = []
    try:
        while not frames or frames[-1]["type"] != "chat.run_complete":
            output = await communicator.receive_output(timeout=30)
            assert output["type"] != "websocket.close", f"socket closed early after {frames}"
            frames.append(json.loads(output["text"]))
    finally:
        await communicator.disconnect()
    return frames


def _types(frames: list[dict[str, Any]]) -> list[str]:
    return [frame["type"] for frame in frames]


def _tokens_used(organization: Any) -> int:
    return check_token_budget(organization=organization).used or 0


@pytest.fixture
async def close_thread_connections() -> Any:
    """Close the database connection of asgiref's shared thread, so PostgreSQL can drop the test database."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.usefixtures("close_thread_connections")
async def test_a_free_plans_token_budget_is_spent_by_runs_refused_with_structured_errors_then_lifted_by_an_upgrade(
) -> None:
    from prometheus_client import REGISTRY

    refusals = {"key": "tokens_monthly", "error": "TOKEN_BUDGET_EXCEEDED"}
    refused_before = REGISTRY.get_sample_value("mozaiks_quota_refusals_total", refusals) or 0
    organization, client = await sync_to_async(_owner_on_the_free_plan)()
    plan = await sync_to_async(effective_plan)(organization)
    assert plan.plan_id == "free"
    assert plan.meters["tokens_monthly"]["limit"] == 200_000  # two runs: 120k, then 240k > 200k

    first = await sync_to_async(_start)(client)
    assert first.status_code == 200, first.content
    frames = await _run(first.json()["websocket_url"])
    usage = [frame["data"] for frame in frames if frame["type"] == "chat.usage_delta"]
    assert [delta["total_tokens"] for delta in usage] == [TOKENS_PER_RUN]
    assert frames[-1]["data"]["status"] == "completed"
    assert await sync_to_async(_tokens_used)(organization) == TOKENS_PER_RUN

    # A chat created while budget remains, but run only after the budget is gone.
    waiting = await sync_to_async(_start)(client)
    assert waiting.status_code == 200, waiting.content

    second = await sync_to_async(_launch)(client)
    assert second.status_code == 200, second.content
    frames = await _run(second.json()["websocket_url"])
    assert frames[-1]["data"]["status"] == "completed"
    assert await sync_to_async(_tokens_used)(organization) == 2 * TOKENS_PER_RUN

    for refused in (await sync_to_async(_start)(client), await sync_to_async(_launch)(client)):
        assert refused.status_code == 402, refused.content
        body = refused.json()
        assert body["error"] == "TOKEN_BUDGET_EXCEEDED"
        assert body["key"] == "tokens_monthly"
        assert (body["limit"], body["used"], body["remaining"]) == (200_000, 2 * TOKENS_PER_RUN, 0)
        assert body["upgrade_url"].startswith("/billing/pricing")

    frames = await _run(waiting.json()["websocket_url"])
    errors = [frame["data"] for frame in frames if frame["type"] == "chat.error"]
    assert [error["error_code"] for error in errors] == ["TOKEN_BUDGET_EXCEEDED"]
    assert "chat.usage_delta" not in _types(frames)  # stopped before the LLM call
    assert frames[-1]["data"]["status"] == "failed"
    assert await sync_to_async(UsageRecord.objects.filter(organization=organization).count)() == 2

    upgrade = await sync_to_async(client.post)("/api/billing/checkout", {"plan_id": "pro", "interval": "month"},
                                               content_type="application/json")
    assert upgrade.status_code == 200, upgrade.content
    assert upgrade.json()["applied"] is True
    assert (await sync_to_async(effective_plan)(organization)).plan_id == "pro"

    lifted = await sync_to_async(_start)(client)
    assert lifted.status_code == 200, lifted.content
    frames = await _run(lifted.json()["websocket_url"])
    assert frames[-1]["data"]["status"] == "completed"
    assert "chat.error" not in _types(frames)
    assert await sync_to_async(_tokens_used)(organization) == 3 * TOKENS_PER_RUN
    # The two refused starts and the run the budget stopped, each counted once (listing never counts).
    assert REGISTRY.get_sample_value("mozaiks_quota_refusals_total", refusals) == refused_before + 3
