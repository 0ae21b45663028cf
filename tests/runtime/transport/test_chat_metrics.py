"""One chat over a real socket moves the runtime's metrics: sockets, frames, delivery, runs, LLM tokens."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.runtime.transport.test_socket_runs import open_chat

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def runs_ended() -> None:
    """Wait for the in-process runs to return (their last metrics and logs follow ``chat.run_complete``)."""
    from mozaiks_core.runtime.runs.executors import _asyncio_executor

    tasks = list(_asyncio_executor.tasks.values())
    if tasks:
        await asyncio.wait(tasks, timeout=10)


async def test_a_chat_counts_its_socket_frames_delivery_run_and_tokens(alice: Any) -> None:
    names = [("mozaiks_ws_frames_out_total", {}), ("mozaiks_event_delivery_seconds_count", {}),
             ("mozaiks_runs_started_total", {"workflow": "HelloUI"}),
             ("mozaiks_runs_finished_total", {"workflow": "HelloUI", "status": "completed"}),
             ("mozaiks_llm_call_seconds_count", {"model": "mozaiks-scripted"}),
             ("mozaiks_llm_tokens_total", {"model": "mozaiks-scripted", "kind": "completion"}),
             ("mozaiks_ws_frames_in_total", {"type": "ui_tool_response"}),
             ("mozaiks_ws_frames_in_total", {"type": "invalid"})]
    before = {(name, tuple(labels.items())): sample(name, **labels) for name, labels in names}
    sockets_before = sample("mozaiks_ws_open_sockets")

    _, client = await open_chat(alice, "HelloUI")
    assert sample("mozaiks_ws_open_sockets") == sockets_before + 1
    call = await client.until("chat.tool_call")
    await client.send({"type": "no.such.frame", "data": {}})
    await client.until("chat.error")
    await client.send({"type": "ui_tool_response", "data": {"eventId": call["data"]["eventId"],
                                                              "response": {"name": "Ada"}}})
    await client.until("chat.run_complete")
    await runs_ended()
    await client.close()

    after = {(name, tuple(labels.items())): sample(name, **labels) for name, labels in names}
    grew = {key: after[key] - before[key] for key in before}
    assert grew[("mozaiks_ws_frames_out_total", ())] >= len(client.frames)
    assert grew[("mozaiks_event_delivery_seconds_count", ())] >= 1
    assert grew[("mozaiks_runs_started_total", (("workflow", "HelloUI"),))] == 1
    assert grew[("mozaiks_runs_finished_total", (("workflow", "HelloUI"), ("status", "completed")))] == 1
    assert grew[("mozaiks_llm_call_seconds_count", (("model", "mozaiks-scripted"),))] >= 1
    assert grew[("mozaiks_llm_tokens_total", (("model", "mozaiks-scripted"), ("kind", "completion")))] > 0
    assert grew[("mozaiks_ws_frames_in_total", (("type", "ui_tool_response"),))] == 1
    assert grew[("mozaiks_ws_frames_in_total", (("type", "invalid"),))] == 1
    assert sample("mozaiks_ws_open_sockets") == sockets_before


async def test_a_runs_json_log_lines_carry_its_chat_run_and_organization(alice: Any) -> None:
    from mozaiks_core.observability.logs import ContextFilter, JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mozaiks_core.runtime.runs.execution")
    logger.addHandler(handler)
    try:
        session, client = await open_chat(alice, "HelloUI")
        call = await client.until("chat.tool_call")
        await client.send({"type": "ui_tool_response", "data": {"eventId": call["data"]["eventId"],
                                                                  "response": {"name": "Ada"}}})
        await client.until("chat.run_complete")
        await runs_ended()
        await client.close()
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [ended] = [line for line in lines if line["message"].startswith("run ended")]
    assert ended["message"] == "run ended: completed"
    assert ended["level"] == "INFO"
    assert ended["chat_id"] == session.chat_id
    assert ended["org"] == str(session.organization_id)
    assert len(ended["run_id"]) == 32
    assert {line["run_id"] for line in lines} == {ended["run_id"]}


async def test_a_model_stream_cut_short_ends_the_run_with_model_error_and_the_socket_and_metrics_stay_right(
    alice: Any, settings: Any
) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from tests.runtime.engine.test_openai_provider import _BrokenServer

    _BrokenServer.mode = "close"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MOZAIKS_LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    settings.MOZAIKS_LLM_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.MOZAIKS_LLM_TIMEOUT_SECONDS = 2.0
    failures_before = sample("mozaiks_run_failures_total", workflow="HelloUI", error_code="MODEL_ERROR")
    sockets_before = sample("mozaiks_ws_open_sockets")
    try:
        _, client = await open_chat(alice, "HelloUI")
        error = await client.until("chat.error")
        assert error["data"]["error_code"] == "MODEL_ERROR"
        assert "closed the reply before it ended" in error["data"]["message"]
        assert "seq" in error  # a chat event: stored and replayed
        done = await client.until("chat.run_complete")
        assert done["data"]["status"] == "failed"
        await runs_ended()
        await client.send({"type": "no.such.frame", "data": {}})  # the socket still answers
        assert (await client.until("chat.error"))["data"]["error_code"] == "SCHEMA_VALIDATION_FAILED"
        assert sample("mozaiks_ws_open_sockets") == sockets_before + 1
        await client.close()
    finally:
        server.shutdown()
    assert sample("mozaiks_run_failures_total", workflow="HelloUI", error_code="MODEL_ERROR") == failures_before + 1
    assert sample("mozaiks_ws_open_sockets") == sockets_before
