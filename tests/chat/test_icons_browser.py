"""Icons of the shell and the chat page in Debian's Chromium: drawn as SVG, never as a font glyph
that a system without an emoji font shows as a missing-glyph box."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.chat.factories import make_chat, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / ("docs/images" if os.environ.get("MOZAIKS_SCREENSHOTS") else "test-results")
# Arrows, technical symbols, dingbats, geometric shapes and emoji: characters used as icons.
SYMBOL = re.compile("[\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\U0001f000-\U0001faff]")


def test_the_bell_the_back_link_and_tool_steps_draw_svg_icons_and_keep_their_labels(
    asgi_server: Any, page: Any
) -> None:
    user = make_user("icons@example.com")
    chat = make_chat(user, title="Icons", events=[
        ("chat.tool_call", {"agent": "Planner", "tool_name": "lookup", "tool_call_id": "call-1", "arguments": {}}),
        ("chat.tool_response", {"tool_call_id": "call-1", "content": "found"}),
        ("chat.run_complete", {"status": "completed"}),
    ])
    url = asgi_server().info["url"]
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}])
    page.goto(f"{url}/chat/{chat.chat_id}/")
    page.locator(".mzc-step").wait_for()

    bell = page.get_by_role("link", name="Notifications, 0 unread")
    assert bell.locator("svg[aria-hidden='true']").count() == 1
    back = page.get_by_role("link", name="All chats")
    assert back.locator("svg[aria-hidden='true']").count() == 1
    assert page.locator(".mzc-step summary svg[aria-hidden='true']").count() == 1

    icon_text = page.evaluate("""() => [
        ...document.querySelectorAll('[data-bell] > :not([data-bell-count]), .mzc-back, .mzc-step summary'),
    ].map((node) => node.textContent).join(' ')""")
    assert not SYMBOL.findall(icon_text), f"icon glyphs left as text: {SYMBOL.findall(icon_text)}"
    assert not SYMBOL.findall(page.locator("header").inner_text() + page.locator(".mzc-chat-head").inner_text())

    IMAGES.mkdir(exist_ok=True)
    page.locator("header").screenshot(path=str(IMAGES / "shell-header-icons.png"))
    page.locator(".mzc-chat").screenshot(path=str(IMAGES / "chat-icons.png"))
