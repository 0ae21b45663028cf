"""Plan gating and billing in Chromium: a paid workflow is shown disabled with its reason on Free,
works after an upgrade, and cancelling or leaving asks first."""

from __future__ import annotations

from typing import Any

import pytest

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from mozaiks_core.billing.models import Subscription
from tests.chat.factories import make_user
from tests.support.browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_paid_workflow_is_disabled_with_its_reason_on_free_and_runs_after_an_upgrade(
    asgi_server: Any, page: Any
) -> None:
    make_user("buyer@example.com")
    base = asgi_server().info["url"]
    sign_in(page, base, "buyer@example.com")
    page.goto(f"{base}/chat/")
    card = page.locator(".mzc-capability").filter(has_text="Export chats")
    start = card.get_by_role("button", name="Start Export chats")
    start.wait_for()
    assert start.is_disabled()
    assert "Pro and Team plans" in card.inner_text(), "the description comes from the catalog"
    reason = card.locator(".mzc-capability-reason")
    assert reason.is_visible()
    assert "Export chats is included in Pro and Team." in reason.inner_text(), "the reason is in words"
    screenshot(page, "chat-plan-gating.png")
    reason.get_by_role("link", name="See plans").click()
    page.wait_for_url("**/billing/pricing/**")

    page.locator("[data-plan=pro]").get_by_role("button", name="Start the 14-day trial of Pro").click()
    page.wait_for_url(f"{base}/billing/**")
    page.goto(f"{base}/chat/")
    start = page.get_by_role("button", name="Start Export chats")
    start.wait_for()
    assert start.is_enabled()
    start.click()
    page.wait_for_url("**/chat/*/")
    page.locator("#mzc-transcript").get_by_text("The team planned one launch this month.").wait_for()
    page.locator("#mzc-readonly").wait_for()

    # Cancelling the trial asks first, says it ends at once, and "Keep it" keeps it.
    page.goto(f"{base}/billing/")
    page.get_by_role("button", name="Cancel subscription").click()
    dialog = page.locator("dialog[open]")
    assert "It ends now" in dialog.inner_text()
    screenshot(page, "billing-cancel-dialog.png")
    dialog.get_by_role("button", name="Keep it").click()
    assert Subscription.objects.get(organization__memberships__user__email="buyer@example.com").status == "trialing"
    page.get_by_role("button", name="Cancel subscription").click()
    page.locator("dialog[open]").get_by_role("button", name="Cancel subscription").click()
    page.wait_for_load_state()
    page.get_by_text("Current plan: Free").wait_for()


def test_leaving_an_organization_asks_first(asgi_server: Any, page: Any) -> None:
    owner = make_user("founder@example.com")
    team = create_organization(name="Launch Crew", owner=owner)
    Membership.objects.create(user=make_user("crew@example.com"), organization=team, role="member")
    base = asgi_server().info["url"]
    sign_in(page, base, "crew@example.com")
    page.goto(f"{base}/orgs/{team.slug}/")
    page.get_by_role("button", name="Leave Launch Crew").click()
    dialog = page.locator("dialog[open]")
    assert "You lose access to its chats" in dialog.inner_text()
    dialog.get_by_role("button", name="Keep it").click()
    assert Membership.objects.filter(organization=team, user__email="crew@example.com").exists()
    page.get_by_role("button", name="Leave Launch Crew").click()
    page.locator("dialog[open]").get_by_role("button", name="Leave organization").click()
    page.wait_for_url(f"{base}/orgs/")
    assert not Membership.objects.filter(organization=team, user__email="crew@example.com").exists()
