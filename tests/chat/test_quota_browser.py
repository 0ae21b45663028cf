"""The chat's quota bar and warnings in Chromium: warning past the threshold, plain words at the limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

from tests.chat.factories import make_user, personal_org
from tests.chat.test_chat_e2e import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = 1_000_000
WARNING_COLOUR = "rgb(180, 83, 9)"
LIMIT_COLOUR = "rgb(185, 28, 28)"


def _capped(email: str, used: int) -> Any:
    from mozaiks_core.entitlements.metering import consume

    user = make_user(email)
    organization = personal_org(user)
    apps.get_model("mozaiks_entitlements", "EntitlementOverride").objects.create(
        organization=organization, key="tokens_monthly", limit=LIMIT, enforcement="hard")
    consume(organization, "tokens_monthly", used, f"pre-{email}", enforce=False)
    return organization


def _bar_colour(page: Any) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('#mzc-quota-meter span')).backgroundColor")


def test_the_quota_bar_warns_past_80_percent_and_says_so_in_words_at_the_limit(asgi_server: Any, page: Any) -> None:
    organization = _capped("near@example.com", 850_000)
    base = asgi_server().info["url"]
    sign_in(page, base, "near@example.com")
    page.goto(f"{base}/chat/")
    meter = page.locator("#mzc-quota-meter")
    assert meter.get_attribute("data-state") == "warning"
    notice = page.locator("#mzc-quota-notice")
    assert "Your organization has used 85% of its AI tokens for this period" in notice.inner_text()
    assert notice.get_by_role("link", name="Upgrade your plan").get_attribute("href").startswith("/billing/pricing")
    assert _bar_colour(page) == WARNING_COLOUR

    from mozaiks_core.entitlements.metering import consume

    consume(organization, "tokens_monthly", LIMIT - 850_000, "pre-rest", enforce=False)
    page.reload()
    assert meter.get_attribute("data-state") == "limit"
    assert "AI tokens for this period are used up" in notice.inner_text()
    assert _bar_colour(page) == LIMIT_COLOUR
    assert "TOKEN_BUDGET_EXCEEDED" not in notice.inner_text()


def test_a_live_run_that_crosses_the_threshold_turns_the_bar_and_shows_the_warning(asgi_server: Any,
                                                                                   page: Any) -> None:
    _capped("crossing@example.com", 799_999)  # one token under 80 %: the run's first call crosses it
    base = asgi_server().info["url"]
    sign_in(page, base, "crossing@example.com")
    page.goto(f"{base}/chat/")
    assert page.locator("#mzc-quota-meter").get_attribute("data-state") == "ok"
    assert page.locator("#mzc-quota-notice").is_hidden()
    page.get_by_role("button", name="Start Product launch").click()
    page.wait_for_url("**/chat/*/")
    page.locator("#mzc-quota-meter[data-state='warning']").wait_for(timeout=15_000)
    notice = page.locator("#mzc-quota-notice")
    notice.get_by_text("of its AI tokens for this period").wait_for()
    assert notice.get_by_role("link", name="Upgrade your plan").is_visible()
    assert _bar_colour(page) == WARNING_COLOUR
