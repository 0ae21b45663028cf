"""Fixtures of the chat-page tests: a page serving the chat modules from disk (no server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STATIC_ROOT = Path(__file__).resolve().parents[2] / "mozaiks_core" / "static"
ORIGIN = "http://mozaiks.test"
BLANK = "<!doctype html><html lang='en'><head><title>modules</title></head><body><main id='root'></main></body></html>"


@pytest.fixture
def module_page(page: Any) -> Iterator[Any]:
    """A page on a fake origin whose ``/static/`` is the repository's static folder, read from disk.

    Unit tests of the chat modules run the real JavaScript in Chromium without a Django server.
    """

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/static/"):
            file = (STATIC_ROOT / path.removeprefix("/static/")).resolve()
            if STATIC_ROOT in file.parents and file.is_file():
                route.fulfill(status=200, body=file.read_bytes(), content_type="text/javascript")
                return
            route.fulfill(status=404, body="")
            return
        route.fulfill(status=200, body=BLANK, content_type="text/html")

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/")
    return page
