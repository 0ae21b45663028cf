"""The ``openai`` provider against a local OpenAI-compatible server: model override, streaming, usage."""

import json
import logging
import threading
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
