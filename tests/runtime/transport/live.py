"""Helpers for tests against a real ASGI server: HTTP with a session cookie, a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from typing import Any

import websockets
from django.test import Client as HttpClient

CSRF = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret


def session_cookie(user: Any) -> str:
    """A logged-in session for ``user`` (stored in the shared test database)."""
    client = HttpClient()
    client.force_login(user)
    return client.cookies["sessionid"].value


def post_json(url: str, body: dict[str, Any], *, session: str,
              headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST JSON to the live server with the session cookie and CSRF token (and any extra ``headers``)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "X-CSRFToken": CSRF,
        "Cookie": f"sessionid={session}; csrftoken={CSRF}", **(headers or {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class LiveSocket:
    """A real WebSocket client (the ``websockets`` library) with the frame helpers the tests need."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, origin: str) -> LiveSocket:
        return cls(await websockets.connect(url, origin=origin, open_timeout=10))

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def until(self, frame_type: str, timeout: float = 20, **data: Any) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.connection.recv())
                self.frames.append(frame)
                if frame["type"] == frame_type and all(frame["data"].get(k) == v for k, v in data.items()):
                    return frame

    async def closed_code(self, timeout: float = 10) -> int | None:
        async with asyncio.timeout(timeout):
            try:
                while True:
                    self.frames.append(json.loads(await self.connection.recv()))
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    def seqs(self) -> list[int]:
        return [frame["seq"] for frame in self.frames if "seq" in frame]

    async def close(self) -> None:
        await self.connection.close()
