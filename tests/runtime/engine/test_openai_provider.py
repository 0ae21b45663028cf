"""The ``openai`` provider against a local OpenAI-compatible server: model override, streaming, usage."""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mozaiks_core.runtime.engine import run_workflow

from .conftest import FIXTURES

WORDS = ["Hello", " from", " the", " local", " model."]


class _CompatibleServer(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        if body["model"] == "missing-model":
            error = json.dumps({"error": {"message": "model 'missing-model' not found", "type": "invalid_request_error",
                                          "code": "model_not_found"}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        base = {"id": "chatcmpl-1", "created": 0, "model": body["model"], "object": "chat.completion.chunk"}
        if not body.get("stream"):
            reply = {**base, "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "".join(WORDS)}}],
                     "usage": {"prompt_tokens": 33, "completion_tokens": 5, "total_tokens": 38}}
            payload = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if body.get("tools") and body["messages"][-1]["role"] != "tool":  # first call: ask for the tool
            call = {"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "whoami", "arguments": "{}"}}
            chunk = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [call]},
                                          "finish_reason": None}]}
            last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
            return
        for word in WORDS:
            chunk = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": word},
                                          "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture
def compatible_server(settings):
    _CompatibleServer.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CompatibleServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MOZAIKS_LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    settings.MOZAIKS_LLM_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.MOZAIKS_LLM_MODEL = "default-model"
    yield _CompatibleServer.requests
    server.shutdown()


async def test_a_compatible_server_streams_deltas_and_the_workflow_model_override_is_used(
    compatible_server, hooks, context, bundle_copy
):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Valid\nmax_turns: 2\ninitial_message: Hi.\nmodel: tiny-llm\n",
    })

    outcome = await run_workflow(bundle, context("Valid"), hooks)

    assert outcome.status == "completed", outcome.summary
    [request] = compatible_server
    assert request["model"] == "tiny-llm"
    assert request["messages"][0] == {"role": "system", "content": "You help."}
    assert [event["content"] for event in hooks.events("chat.print")] == WORDS
    assert hooks.events("chat.text")[-1]["content"] == "".join(WORDS)
    [usage] = hooks.events("usage")
    assert usage["model"] == "tiny-llm"
    assert usage["agent"] == "Helper"
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0


async def test_a_tool_call_from_the_server_runs_the_bundle_tool_and_every_call_is_metered(
    compatible_server, hooks, context
):
    from .conftest import load

    ctx = context("ToolFailure")
    outcome = await run_workflow(load(FIXTURES / "engine" / "ToolFailure"), ctx, hooks)

    assert outcome.status == "completed", outcome.summary
    assert len(compatible_server) == 2
    assert {tool["function"]["name"] for tool in compatible_server[0]["tools"]} == {"check_stock", "whoami"}
    assert "context_variables" not in json.dumps(compatible_server[0]["tools"])  # injected, never asked for
    [response] = hooks.events("chat.tool_response")
    assert f'"chat_id": "{ctx.chat_id}"' in response["content"]
    assert compatible_server[1]["messages"][-1]["role"] == "tool"
    assert [record["model"] for record in hooks.events("usage")] == ["default-model", "default-model"]
    assert hooks.events("chat.text")[-1]["content"] == "".join(WORDS)


async def test_a_model_server_error_fails_the_run_with_model_error_and_the_reason(
    compatible_server, hooks, context, bundle_copy
):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Valid\nmax_turns: 2\ninitial_message: Hi.\nmodel: missing-model\n",
    })

    outcome = await run_workflow(bundle, context("Valid"), hooks)

    assert (outcome.status, outcome.error_code) == ("failed", "MODEL_ERROR")
    assert "model 'missing-model' not found" in outcome.summary
    assert hooks.events("usage") == []


async def test_a_call_to_a_model_ag2_has_no_price_for_logs_no_cost_warning(
    compatible_server, hooks, context, bundle_copy, caplog
):
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Valid\nmax_turns: 2\ninitial_message: Hi.\nmodel: tiny-llm\n",
    })

    with caplog.at_level(logging.WARNING, logger="autogen"):
        outcome = await run_workflow(bundle, context("Valid"), hooks)

    assert outcome.status == "completed", outcome.summary
    assert [record.getMessage() for record in caplog.records if "cost will be 0" in record.getMessage()] == []


class _BrokenServer(BaseHTTPRequestHandler):
    """Streams two good chunks, then breaks the way ``mode`` says (HTTP/1.1 chunked, like real providers)."""

    protocol_version = "HTTP/1.1"
    mode = "stall"

    def log_message(self, *args):
        pass

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-1", "created": 0, "model": "tiny-llm", "object": "chat.completion.chunk"}
        for word in WORDS[:2]:
            chunk = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": word},
                                          "finish_reason": None}]}
            self._chunk(f"data: {json.dumps(chunk)}\n\n")
        if self.mode == "stall":
            time.sleep(3)
        elif self.mode == "malformed":
            self._chunk("data: {\"choices\": [{\"delta\": \n\n")
            self._chunk("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.mode == "close":
            self.wfile.write(b"5\r\nda")  # half a chunk, then the connection drops
        elif self.mode == "eof":
            self.wfile.write(b"0\r\n\r\n")  # a clean end of the body, but the reply never finished
        self.close_connection = True


@pytest.fixture
def broken_server(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MOZAIKS_LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    settings.MOZAIKS_LLM_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.MOZAIKS_LLM_MODEL = "tiny-llm"
    settings.MOZAIKS_LLM_TIMEOUT_SECONDS = 1.0
    yield _BrokenServer
    server.shutdown()


@pytest.mark.parametrize(("mode", "reason"), [
    ("stall", "sent nothing for longer than the timeout"),
    ("malformed", "sent malformed streaming data"),
    ("close", "closed the reply before it ended"),
    ("eof", "ended the stream before the reply finished"),
])
async def test_a_provider_whose_stream_breaks_fails_the_run_with_model_error_and_the_reason(
    broken_server, hooks, context, bundle_copy, mode, reason
):
    broken_server.mode = mode
    bundle = bundle_copy(FIXTURES / "errors" / "Valid", {
        "orchestrator.yaml": "workflow_name: Valid\nmax_turns: 2\ninitial_message: Hi.\n",
    })

    started = time.monotonic()
    outcome = await run_workflow(bundle, context("Valid"), hooks)

    assert (outcome.status, outcome.error_code) == ("failed", "MODEL_ERROR"), outcome.summary
    assert reason in outcome.summary
    assert outcome.summary.startswith("The model call failed: ModelStreamBroken: the model server ")
    assert time.monotonic() - started < 15  # never the openai client's 10-minute default
    assert hooks.events("chat.text") == []  # no half reply stored as the agent's message
