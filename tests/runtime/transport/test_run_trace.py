"""One trace per chat: ``POST .../start``, the run (in-process or in a Celery task), AG2's spans, the
frames published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from mozaiks_core.observability import tracing
from tests.runtime.transport.conftest import APP_ID, Client
from tests.runtime.transport.test_chat_metrics import runs_ended

INTEGRATION_WORKFLOWS = Path(__file__).resolve().parents[2] / "integration" / "workflows"

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is part of the dev install")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Traces on, for this test only, into memory."""
    exporter = InMemorySpanExporter()
    assert tracing.configure(exporter=exporter)
    yield exporter
    tracing.shutdown()


def start_chat(user: Any) -> dict[str, Any]:
    client = HttpClient()
    client.force_login(user)
    response = client.post(f"/api/chats/{APP_ID}/HelloUI/start", {}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


async def run_chat_over_the_socket(user: Any) -> str:
    started = await database_sync_to_async(start_chat)(user)
    url = urlsplit(started["websocket_url"])
    client = Client(f"{url.path}?{url.query}")
    assert await client.connect()
    call = await client.until("chat.tool_call")
    await client.send({"type": "ui_tool_response", "data": {"eventId": call["data"]["eventId"],
                                                              "response": {"name": "Ada"}}})
    await client.until("chat.run_complete")
    await runs_ended()
    await client.close()
    return started["chat_id"]


def tree(exporter: InMemorySpanExporter) -> tuple[dict[int, Any], list[Any]]:
    finished = exporter.get_finished_spans()
    return {span.context.span_id: span for span in finished}, list(finished)


def parent_name(by_id: dict[int, Any], span: Any) -> str | None:
    parent = by_id.get(span.parent.span_id) if span.parent is not None else None
    return None if parent is None else parent.name


async def test_the_start_request_the_run_ag2s_turns_and_the_published_frames_share_one_trace(
    alice: Any, spans: InMemorySpanExporter
) -> None:
    chat_id = await run_chat_over_the_socket(alice)

    by_id, finished = tree(spans)
    [request] = [span for span in finished if span.name.startswith("POST") and span.parent is None]
    [run] = [span for span in finished if span.name == "mozaiks.run HelloUI"]
    assert run.parent.span_id == request.context.span_id
    assert run.attributes["mozaiks.chat_id"] == chat_id
    in_trace = [span for span in finished if span.context.trace_id == request.context.trace_id]
    publishes = [span for span in in_trace if span.name == "mozaiks.frames.publish"]
    assert publishes
    assert {span.parent.span_id for span in publishes} == {run.context.span_id}
    assert max(span.attributes.get("mozaiks.last_seq", -1) for span in publishes) >= 1
    ag2 = [span for span in in_trace if span.instrumentation_scope.name != tracing.TRACER_NAME
           and span is not request]
    assert ag2, f"no AG2 spans in the run's trace: {[span.name for span in in_trace]}"
    # Every AG2 span hangs under the run, directly or through other AG2 spans.
    for span in ag2:
        ancestor = span
        while ancestor.parent is not None and ancestor.parent.span_id != run.context.span_id:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor.parent is not None, f"{span.name} is not under the run span"


def test_a_celery_run_continues_the_trace_of_the_request_that_dispatched_it(
    alice: Any, spans: InMemorySpanExporter, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import current_app
    from opentelemetry import trace

    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.bundles import get_registry
    from mozaiks_core.runtime.runs.queued import RUN_TASK
    from tests.runtime.transport.conftest import new_chat

    settings.MOZAIKS_WORKFLOW_ROOTS = [str(INTEGRATION_WORKFLOWS)]
    settings.MOZAIKS_RUN_EXECUTOR = "celery"
    get_registry(refresh=True)
    run_chat = current_app.tasks[RUN_TASK]
    sent: list[dict[str, Any]] = []
    # What the broker would carry to a worker: the task's arguments, sent after the claim commits.
    monkeypatch.setattr(run_chat, "apply_async", lambda args, kwargs, queue: sent.append(
        {"args": args, "kwargs": kwargs, "queue": queue}))
    session = new_chat(alice, "QuotaBurner")
    with tracing.provider().get_tracer("test").start_as_current_span("POST start") as request:
        assert services.start_run(session)
    [message] = sent
    assert message["queue"] == "mozaiks.runs"
    assert message["kwargs"]["trace"]["traceparent"].split("-")[1] == format(request.get_span_context().trace_id,
                                                                             "032x")
    # The worker's side, in this process: the task with those arguments, outside any span.
    assert trace.get_current_span() is trace.INVALID_SPAN
    run_chat.apply(args=message["args"], kwargs=message["kwargs"])

    _, finished = tree(spans)
    [run] = [span for span in finished if span.name == "mozaiks.run QuotaBurner"]
    assert run.parent.span_id == request.get_span_context().span_id
    assert run.context.trace_id == request.get_span_context().trace_id
    publishes = [span for span in finished if span.name == "mozaiks.frames.publish"]
    assert publishes
    assert {span.parent.span_id for span in publishes} == {run.context.span_id}


def test_without_an_exporter_traces_stay_off_and_cost_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert tracing.configure() is False
    assert tracing.enabled() is False
    assert tracing.carrier() is None
    with tracing.run_span("W", "c", "r", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}):
        assert tracing.current_context() is None


def test_without_the_otel_extra_the_tracing_module_imports_and_stays_off() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['opentelemetry'] = None\n"
            "from mozaiks_core.observability import tracing\n"
            "assert not tracing.available() and tracing.configure() is False and tracing.carrier() is None\n"
            "with tracing.run_span('W', 'c', 'r', None):\n    pass\n"
            "print('off')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "PATH": ""})
    assert result.stdout.strip() == "off", result.stderr
