"""Secrets never reach responses or logs of a production server (DEBUG=false, a real uvicorn subprocess).

The server runs with the Procfile's uvicorn options (its default INFO log level included) and a
database that is down, so the same run shows the production 404 and 500 pages. Every request
carries a secret where a careless server would echo or log it: an execution token in the
socket's query string, an API key in ``Authorization``, a signed webhook. Afterwards no secret
(SECRET_KEY, Stripe keys, the OpenAI key, the database password, tokens) may appear in any
response body or anywhere in the process's output.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.support.processes import ManagedProcess, child_environment, start_process, wait_for_http
from tests.support.services import free_port

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[2]


def _procfile_uvicorn_options() -> list[str]:
    """The web1 line's uvicorn options, so the test serves exactly what production serves."""
    line = next(line for line in (REPO_ROOT / "Procfile").read_text().splitlines() if line.startswith("web1:"))
    words = line.split(":", 1)[1].split()
    assert words[:2] == ["uvicorn", "mozaiks_core.asgi:application"], line
    options, skip = [], False
    for word in words[2:]:
        if skip:
            skip = False
            continue
        if word in {"--host", "--port"}:
            skip = True
            continue
        options.append(word)
    return options


SECRETS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(20),
    "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(20),
    "OPENAI_API_KEY": "sk-" + secrets.token_hex(24),
}
DB_PASSWORD = "dbpw" + secrets.token_hex(12)
TOKEN = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(30) + "." + secrets.token_urlsafe(20)
API_KEY = "mzk_" + secrets.token_urlsafe(30)


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    port = free_port()
    env = child_environment({
        **SECRETS, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres:{DB_PASSWORD}@127.0.0.1:{free_port()}/down",
        "MOZAIKS_LOG_LEVEL": "INFO",
    })
    command = [sys.executable, "-m", "uvicorn", "mozaiks_core.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), *_procfile_uvicorn_options()]
    process = start_process(command, env, tmp_path_factory.mktemp("prod") / "uvicorn.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", process, timeout=60)
        process.info.update(url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
        yield process
    finally:
        process.stop()


def _request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _assert_clean(text: str, where: str) -> None:
    for name, value in {**SECRETS, "database password": DB_PASSWORD, "execution token": TOKEN,
                        "API key": API_KEY}.items():
        assert value not in text, f"{name} leaked into {where}"


def test_production_404_and_500_pages_and_the_server_log_hold_no_secret(production_server: ManagedProcess) -> None:
    base = production_server.info["url"]
    pages: list[tuple[str, int, str]] = []
    for path in ("/no-such-page/", "/api/no-such-route", f"/no-such-page/?access_token={TOKEN}"):
        pages.append((path, *_request(base + path)))
    status, body = _request(base + "/api/sessions/list/mozaiks-demo/1",
                            headers={"Authorization": f"Bearer {API_KEY}"})
    pages.append(("api with a key, database down", status, body))
    payload = b'{"id": "evt_prod", "object": "event", "type": "invoice.paid", "created": 1, "data": {"object": {}}}'
    stamp = int(time.time())
    digest = hmac.new(SECRETS["STRIPE_WEBHOOK_SECRET"].encode(), f"{stamp}.".encode() + payload,
                      hashlib.sha256).hexdigest()
    pages.append(("webhook, database down", *_request(base + "/billing/webhooks/stripe/", data=payload, headers={
        "Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={digest}"})))

    async def socket_with_token() -> None:
        url = f"{production_server.info['ws_url']}/ws/Chatter/mozaiks-demo/chat1/1?access_token={TOKEN}"
        try:
            async with websockets.connect(url, origin=base, open_timeout=10) as socket:
                await asyncio.wait_for(socket.recv(), 10)
        except (websockets.InvalidStatus, websockets.ConnectionClosed, TimeoutError):
            pass

    asyncio.run(socket_with_token())
    by_path = {path: (status, body) for path, status, body in pages}
    assert by_path["/no-such-page/"][0] == 404
    assert by_path["webhook, database down"][0] >= 500, "the database is down: this request must fail"
    for path, status, body in pages:
        assert "Traceback" not in body, f"{path} ({status}) shows a traceback"
        assert "settings" not in body.lower() or status < 500, f"{path} ({status}) shows settings"
        _assert_clean(body, f"the {status} response to {path}")
    time.sleep(0.5)  # let the server flush its log
    log = production_server.log()
    assert "WebSocket" in log or "GET" in log, "the server logged nothing: the test would prove nothing"
    _assert_clean(log, "the server log")
