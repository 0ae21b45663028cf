"""The admin at 1280 px in Chromium: wide change lists scroll in their box, the page never cuts them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chat.factories import make_chat, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_chat_sessions_list_is_usable_at_1280_px(asgi_server: Any, page: Any) -> None:
    operator = make_user("ops@example.com", is_staff=True, is_superuser=True)
    for number in range(3):
        make_chat(operator, title=f"A long chat title number {number} " * 3, workflow="ProductLaunch")
    base = asgi_server().info["url"]
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill("a-long-test-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/")
    assert page.locator("#site-name").inner_text() == "Mozaiks Demo administration"
    page.goto(f"{base}/admin/mozaiks_runtime/chatsession/")
    last_header = page.locator("#result_list thead th").last
    last_header.scroll_into_view_if_needed()
    assert last_header.is_visible()
    box = last_header.bounding_box()
    assert box["x"] + box["width"] <= 1280, "the last column can be brought into view"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, "the page itself does not overflow"
    page.screenshot(path="test-results/admin-chat-sessions.png")
