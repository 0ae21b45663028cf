"""The shell in Chromium: branding and navigation, a declarative page's form, the notification bell."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.services import ensure_personal_organization

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_shell_a_page_form_with_field_errors_and_the_bell_work_in_a_browser(asgi_server: Any, page: Any) -> None:
    user = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    server = asgi_server()
    url = server.info["url"]

    page.goto(f"{url}/")
    assert page.title() == "Welcome · Mozaiks Demo"
    assert page.locator("h1").first.inner_text() == "Mozaiks Demo"
    assert page.locator(".shell-logo").count() == 1
    assert page.locator("a.skip-link[href='#main']").count() == 1
    primary = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--mz-primary').trim()")
    assert primary == "#3b5bdb"

    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}])
    page.goto(f"{url}/tasks")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").get_attribute(
        "aria-current") == "page"
    assert page.locator("[data-bell-count]").is_hidden()

    page.get_by_label("Title").fill("ab")
    page.get_by_role("button", name="Add task").click()
    error = page.locator(".field-error")
    assert "is too short" in error.inner_text()
    assert page.get_by_label("Title").get_attribute("aria-invalid") == "true"

    page.get_by_label("Title").fill("Book the venue")
    page.get_by_role("button", name="Add task").click()
    assert page.get_by_role("status").inner_text() == "Task added."
    assert page.locator("table.data-table tbody tr").first.inner_text().split("\t")[1] == "Book the venue"
    assert page.locator("[data-bell-count]").is_hidden(), "nobody is notified of their own task"

    from tests.plugins.test_events import add_teammate

    teammate = Client()
    teammate.force_login(add_teammate(user))
    teammate.post("/orgs/switch/", {"organization": ensure_personal_organization(user).slug})
    teammate.post("/tasks", {"_block": "1", "title": "Added by a teammate"})
    page.wait_for_function("typeof window.mozaiksRefreshBell === 'function'")
    page.evaluate("window.mozaiksRefreshBell()")
    page.wait_for_function("document.querySelector('[data-bell-count]').textContent === '1'")
    assert page.locator("[data-bell]").get_attribute("aria-label") == "Notifications, 1 unread"
    page.locator("[data-bell]").click()
    assert page.locator(".notification.unread strong").inner_text() == "New task: Added by a teammate"
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_load_state("load")
    assert page.locator("[data-bell-count]").is_hidden()

    page.set_viewport_size({"width": 400, "height": 800})
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    menu.click()
    assert page.get_by_role("navigation", name="Main").is_visible()
