"""The app shell in Chromium: the account menu, role-aware navigation, 390 px, dark mode, error pages."""

from __future__ import annotations

from typing import Any

import pytest

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from tests.chat.factories import make_user
from tests.support.browser import axe_in_both_themes, header_layout, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_account_menu_reaches_billing_pricing_and_organizations_and_switches_organization(
    asgi_server: Any, page: Any
) -> None:
    owner = make_user("owner@example.com")
    team = create_organization(name="Rocket Team", owner=owner)
    member = make_user("member@example.com")
    Membership.objects.create(user=member, organization=team, role="member")
    base = asgi_server().info["url"]

    sign_in(page, base, "member@example.com")
    page.goto(f"{base}/chat/")
    page.locator("summary.shell-menu-button").click()
    panel = page.locator(".shell-menu-panel")
    for label in ("Account", "Security and two-factor", "Organizations", "Billing", "Pricing", "Sign out"):
        assert panel.get_by_text(label, exact=True).is_visible(), label
    screenshot(page, "shell-account-menu.png")

    # The personal organization is active: the member owns it, so API keys and Activity show.
    assert panel.get_by_role("link", name="API keys").is_visible()
    assert page.locator("#shell-nav").get_by_role("link", name="Activity").is_visible()

    # Switching to the team (where they are a member) returns to the same page, without them.
    panel.get_by_role("button", name="Rocket Team").click()
    page.wait_for_url(f"{base}/chat/")
    assert "Rocket Team is now your active organization" in page.locator(".messages").inner_text()
    assert page.locator("#shell-nav").get_by_role("link", name="Activity").count() == 0
    page.locator("summary.shell-menu-button").click()
    assert panel.get_by_role("link", name="API keys").count() == 0
    assert "Rocket Team · Member" in panel.inner_text()

    # A member who types the activity URL meets the shell's 403 page, not a bare "403 Forbidden".
    response = page.goto(f"{base}/activity/")
    assert response.status == 403
    assert page.locator(".shell-header").is_visible()
    assert "owners and admins" in page.locator("main").inner_text()

    panel = page.locator(".shell-menu-panel")
    page.locator("summary.shell-menu-button").click()
    panel.get_by_role("link", name="Billing").click()
    page.wait_for_url(f"{base}/billing/")
    page.locator("summary.shell-menu-button").click()
    page.locator(".shell-menu-panel").get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.locator(".shell-header").get_by_role("link", name="Sign in").is_visible()


def test_the_header_keeps_one_row_at_390_px_and_the_menu_opens_inside_the_screen(
    asgi_server: Any, chromium_browser: Any
) -> None:
    make_user("narrow@example.com")
    base = asgi_server().info["url"]
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, base, "narrow@example.com")
        for path in ("/", "/chat/", "/orgs/", "/billing/", "/accounts/email/"):
            page.goto(f"{base}{path}")
            layout = header_layout(page)
            assert layout["height"] < 64, f"{path}: the header takes {layout['height']} px"
            assert layout["wrapped"] == [], f"{path}: labels broke onto two lines: {layout['wrapped']}"
            assert not layout["overflow"], f"{path}: the page scrolls sideways"
        page.locator("summary.shell-menu-button").click()
        box = page.locator(".shell-menu-panel").bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
        sign_out = page.locator(".shell-menu-panel").get_by_role("button", name="Sign out").bounding_box()
        assert sign_out["height"] < 48, "Sign out breaks onto two lines"
        screenshot(page, "shell-phone-menu.png")
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Menu").click()
        assert page.locator("#shell-nav").get_by_role("link", name="Chat").is_visible()
    finally:
        context.close()


def test_dark_mode_follows_the_os_and_the_toggle_is_remembered(asgi_server: Any, chromium_browser: Any) -> None:
    make_user("dark@example.com")
    base = asgi_server().info["url"]
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    page = context.new_page()
    background = "() => getComputedStyle(document.body).backgroundColor"
    try:
        sign_in(page, base, "dark@example.com")
        page.goto(f"{base}/chat/")
        assert page.evaluate(background) == "rgb(20, 22, 27)", "the OS asks for dark"
        toggle = page.get_by_role("button", name="Dark mode")
        assert toggle.get_attribute("aria-pressed") == "true"
        screenshot(page, "shell-dark.png")
        toggle.click()
        assert page.evaluate(background) == "rgb(248, 249, 251)"
        page.goto(f"{base}/billing/")
        assert page.evaluate(background) == "rgb(248, 249, 251)", "the choice is remembered across pages"
        assert page.get_by_role("button", name="Dark mode").get_attribute("aria-pressed") == "false"
    finally:
        context.close()


def test_error_pages_are_styled_and_every_shell_page_passes_axe_in_light_and_dark(
    asgi_server: Any, page: Any
) -> None:
    make_user("axe@example.com")
    base = asgi_server().info["url"]
    assert page.request.get(f"{base}/favicon.ico").headers["content-type"].startswith("image/")
    sign_in(page, base, "axe@example.com")
    missing = page.goto(f"{base}/chat/0123456789abcdef/")
    assert missing.status == 404
    assert page.get_by_role("heading", name="There is nothing here").is_visible()
    screenshot(page, "shell-404.png")
    results = {"404": axe_in_both_themes(page)}
    page.goto(f"{base}/activity/")  # the personal organization's owner may read it
    for path in ("/", "/chat/", "/billing/", "/billing/pricing/", "/orgs/", "/accounts/email/",
                 "/accounts/password/change/", "/accounts/2fa/"):
        page.goto(f"{base}{path}")
        page.locator("summary.shell-menu-button").click()  # the open menu is checked too
        results[path] = axe_in_both_themes(page)
    found = {f"{path} {scheme}": violations for path, themes in results.items()
             for scheme, violations in themes.items() if violations}
    assert found == {}
