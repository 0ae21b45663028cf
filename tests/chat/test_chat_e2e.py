"""The chat pages against a live ASGI server in Debian's Chromium: a whole run of the demo
workflow, reloads mid-run, keyboard-only use at phone width, errors and accessibility."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from tests.chat.factories import make_chat, make_user, personal_org

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-test-password-1"
# Screenshots refresh docs/images only when asked (MOZAIKS_SCREENSHOTS=1); otherwise test-results/.
ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / ("docs/images" if os.environ.get("MOZAIKS_SCREENSHOTS") else "test-results")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
METRICS = Path(__file__).resolve().parents[2] / "test-results" / "chat-metrics.json"  # reported, not asserted
VISIBLE_TYPES = {"chat.text", "chat.tool_call", "chat.run_complete"}


def visible_seqs(events: list[dict[str, Any]]) -> list[int]:
    """Seqs of the events that get a transcript item: messages, tool calls, the end of the run, and
    tool results whose call was not shown (a UI tool's result)."""
    called = {event["payload"].get("tool_call_id") for event in events if event["event_type"] == "chat.tool_call"}
    return [event["seq"] for event in events if event["event_type"] in VISIBLE_TYPES or (
        event["event_type"] == "chat.tool_response" and event["payload"].get("tool_call_id") not in called)]


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def exported_events(page: Any, base: str, chat_id: str) -> list[dict[str, Any]]:
    response = page.request.get(f"{base}/api/chats/{chat_id}/events.ndjson")
    assert response.ok, response.text()
    return [json.loads(line) for line in response.text().splitlines() if line.strip()]


def chat_id_of(page: Any) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[1]


def fill_brief(page: Any) -> None:
    page.get_by_label("Product name *").fill("Rocket")
    page.get_by_label("Who is it for? *").fill("Developers")
    page.get_by_label("Launch date *").fill("2027-01-15")
    page.get_by_label("Marketing budget (USD) *").fill("5000")


def axe_violations(page: Any) -> list[str]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}; run: npm install --prefix tests/chat axe-core@4")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in result if violation["impact"] in {"serious", "critical"}]


def test_a_user_runs_the_demo_workflow_and_reloads_mid_run_without_duplicates_or_gaps(
    asgi_server: Any, page: Any
) -> None:
    make_user("ada@example.com")
    base = asgi_server().info["url"]
    sockets: list[Any] = []  # every chat socket the page opens, proxied so the test can cut one

    def proxy(route: Any) -> None:
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket(re.compile(r"/ws/"), proxy)
    sign_in(page, base, "ada@example.com")

    page.goto(f"{base}/chat/")
    start = page.get_by_role("button", name="Start Product launch")
    start.wait_for()
    page.screenshot(path=str(IMAGES / "chat-home.png"))
    start.click()
    page.wait_for_url("**/chat/*/")
    chat_id = chat_id_of(page)

    # Streamed messages arrive, then the UI tool's form; reloading here reopens the open form.
    page.locator("#mzc-transcript").get_by_text("Welcome! Let's plan your product launch.").wait_for()
    page.locator("form.mzc-tool-form").wait_for()
    latency = int(page.locator("#mzc-app").get_attribute("data-first-event-latency-ms") or -1)
    METRICS.parent.mkdir(exist_ok=True)
    IMAGES.mkdir(exist_ok=True)
    METRICS.write_text(json.dumps({"first_event_to_visible_ms": latency}))
    assert latency >= 0
    page.reload()
    page.locator("form.mzc-tool-form button:not([disabled])").wait_for()
    assert page.locator(".mzc-tool-form").count() == 1
    fill_brief(page)
    page.screenshot(path=str(IMAGES / "chat-ui-tool-form.png"))
    page.get_by_role("button", name="Send brief").dblclick()

    # The network drops while the run goes on: the page says so, reconnects and resumes.
    opened = len(sockets)
    sockets[-1].close(code=4000, reason="network lost")
    page.locator("#mzc-connection[data-state='lost'], #mzc-connection[data-state='reconnecting']").wait_for()
    page.locator("#mzc-connection[data-state='open']").wait_for()
    assert len(sockets) == opened + 1

    # The input request opens the composer; after a reload the chat reopens at that input.
    page.locator("#mzc-input:not([disabled])").wait_for()
    page.reload()
    page.locator("#mzc-input:not([disabled])").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'mzc-input'")
    assert "Shall I finalize" in page.locator("#mzc-transcript").inner_text()
    page.screenshot(path=str(IMAGES / "chat-input-request.png"))
    page.fill("#mzc-input", "Looks good, finalize it.")
    page.keyboard.press("Enter")
    page.locator("#mzc-readonly").wait_for()
    page.locator("#mzc-transcript").get_by_text("Your launch plan is final.").wait_for()
    page.screenshot(path=str(IMAGES / "chat-finished.png"), full_page=True)

    # Every event the page shows appears exactly once, and every event the server stored that
    # has a place in the transcript is there (the export is the server's source of truth).
    events = exported_events(page, base, chat_id)
    assert [event["seq"] for event in events] == list(range(len(events)))
    ui_answers = [event for event in events if event["event_type"] == "chat.ui_tool_complete"]
    assert len(ui_answers) == 1, "the double-clicked form must have sent one answer"
    shown = [int(seq) for seq in page.locator("#mzc-transcript > li[data-seq]").evaluate_all(
        "(items) => items.map((item) => item.dataset.seq)")]
    assert len(shown) == len(set(shown)), f"duplicated events in the transcript: {shown}"
    expected = visible_seqs(events)
    assert sorted(shown) == expected
    assert page.locator(".mzc-pending").count() == 0
    assert page.locator("#mzc-status").inner_text() == "Completed"

    # A finished chat reopens read-only with its full transcript.
    page.reload()
    page.locator("#mzc-readonly").wait_for()
    assert page.locator("#mzc-composer").is_hidden()
    page.locator("#mzc-connection[data-state='ended']").wait_for()  # no socket, and not "Connecting…"
    assert page.locator("#mzc-connection").inner_text() == "Chat ended"
    reopened = page.locator("#mzc-transcript > li[data-seq]").evaluate_all("(items) => items.map((i) => i.dataset.seq)")
    assert sorted(int(seq) for seq in reopened) == expected

    assert axe_violations(page) == []
    page.goto(f"{base}/chat/")
    page.get_by_role("button", name="Start Product launch").wait_for()
    assert axe_violations(page) == []


def test_keyboard_only_at_phone_width_completes_a_run_and_errors_are_explained(
    asgi_server: Any, chromium_browser: Any
) -> None:
    grace = make_user("grace@example.com")
    intruder_chat = make_chat(make_user("mallory@example.com"), title="Not yours")
    quota_chat = make_chat(grace, status="failed", title="Over budget", events=[
        ("chat.text", {"agent": "IntakeAgent", "content": "Starting."}),
        ("chat.error", {"error_code": "TOKEN_BUDGET_EXCEEDED",
                        "message": "Your organization's token budget is used up."}),
        ("chat.run_complete", {"status": "failed"}),
    ])
    base = asgi_server().info["url"]
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, base, "grace@example.com")
        page.goto(f"{base}/chat/")
        start = page.get_by_role("button", name="Start Product launch")
        start.wait_for()
        for _ in range(30):  # Tab until the start button has the focus, then press Enter.
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.capability") == "ProductLaunch":
                break
        page.keyboard.press("Enter")
        page.wait_for_url("**/chat/*/")
        page.locator("form.mzc-tool-form").wait_for()
        page.wait_for_function("document.activeElement && document.activeElement.name === 'product_name'")
        for text in ("Rocket", "Developers"):
            page.keyboard.type(text)
            page.keyboard.press("Tab")
        page.keyboard.type("01152027")
        for _ in range(4):  # Tab walks the date's segments before it leaves the field.
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "budget":
                break
        page.keyboard.type("5000")
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'mzc-input'")
        page.screenshot(path=str(IMAGES / "chat-phone.png"), full_page=True)
        page.keyboard.type("Ship it.")
        page.keyboard.press("Enter")
        page.locator("#mzc-readonly").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # The real quota path (billing merged): an operator override caps the organization's token
        # meter at what it has used; starting again is refused with an upgrade link.
        apps.get_model("mozaiks_entitlements", "EntitlementOverride").objects.create(
            organization=personal_org(grace), key="tokens_monthly", limit=1)
        page.goto(f"{base}/chat/")
        page.get_by_role("button", name="Start Product launch").click()
        refused = page.locator("#mzc-start-error")
        refused.get_by_text("token budget is used up").wait_for()
        assert refused.get_by_text("TOKEN_BUDGET_EXCEEDED").is_visible()
        assert refused.get_by_role("link", name="Upgrade your plan").get_attribute("href").startswith("/")

        missing = page.goto(f"{base}/chat/{intruder_chat.chat_id}/")
        assert missing.status == 404
        assert "Not yours" not in page.content()

        page.goto(f"{base}/chat/{quota_chat.chat_id}/")
        banner = page.locator("#mzc-banner")
        banner.get_by_text("Your organization has used up its quota").wait_for()
        assert banner.get_by_role("link", name="Upgrade your plan").get_attribute("href")
        page.set_viewport_size({"width": 1280, "height": 800})
        banner.screenshot(path=str(IMAGES / "chat-quota-exceeded.png"))
    finally:
        context.close()


class DeafeningProxy:
    """Proxies the page's chat sockets and can stop passing the server's frames to the page, as a
    network that drops while the run goes on: the page learns of those events only by a replay."""

    def __init__(self) -> None:
        self.routes: list[Any] = []
        self.deaf: set[int] = set()

    def __call__(self, route: Any) -> None:
        index = len(self.routes)
        self.routes.append(route)
        server = route.connect_to_server()
        server.on_message(lambda message: None if index in self.deaf else route.send(message))

    def deafen(self) -> None:
        """Drop every frame the server sends on the current socket from now on."""
        self.deaf.add(len(self.routes) - 1)

    def cut(self) -> None:
        """Close the current socket, so the page reconnects and resumes."""
        self.routes[-1].close(code=4000, reason="network lost")


def stored_usage(chat_id: str) -> int:
    """Tokens of every ``chat.usage_delta`` the server stored for the chat."""
    events = apps.get_model("mozaiks_runtime", "ChatEvent").objects.filter(
        chat__chat_id=chat_id, type="chat.usage_delta")
    return sum(int(event.payload["total_tokens"]) for event in events)


def shown_quota(page: Any) -> int:
    return int(page.locator("#mzc-quota-used").get_attribute("data-used"))


def test_the_quota_counts_usage_replayed_after_a_reconnect_once(asgi_server: Any, page: Any) -> None:
    lin = make_user("lin@example.com")
    apps.get_model("mozaiks_entitlements", "EntitlementOverride").objects.create(
        organization=personal_org(lin), key="tokens_monthly", limit=10_000_000)
    chat_events = apps.get_model("mozaiks_runtime", "ChatEvent")
    base = asgi_server().info["url"]
    proxy = DeafeningProxy()
    page.route_web_socket(re.compile(r"/ws/"), proxy)
    sign_in(page, base, "lin@example.com")
    page.goto(f"{base}/chat/")
    page.get_by_role("button", name="Start Product launch").click()
    page.wait_for_url("**/chat/*/")
    chat_id = chat_id_of(page)
    page.locator("form.mzc-tool-form button:not([disabled])").wait_for()
    fill_brief(page)

    # The page goes deaf as it sends the brief: the run goes on to its next question, using
    # tokens, and the page sees none of it until the socket is cut and it resumes.
    proxy.deafen()
    usage_before = stored_usage(chat_id)
    page.get_by_role("button", name="Send brief").click()
    for _ in range(150):  # until the run has stored its next question (15 s at most)
        if chat_events.objects.filter(chat__chat_id=chat_id, type="chat.input_request").exists():
            break
        page.wait_for_timeout(100)
    assert stored_usage(chat_id) > usage_before, "the run used no tokens while the page was away"
    assert page.locator("#mzc-input:not([disabled])").count() == 0, "the page heard the run while deaf"
    proxy.cut()
    page.locator("#mzc-input:not([disabled])").wait_for()
    page.locator("#mzc-connection[data-state='open']").wait_for()

    counter = apps.get_model("mozaiks_entitlements", "UsageCounter")
    metered = counter.objects.get(organization=personal_org(lin), meter="tokens_monthly").used
    assert stored_usage(chat_id) == metered
    assert shown_quota(page) == metered
    assert page.locator("#mzc-quota-used").inner_text() == f"{metered:,}"
    assert page.locator("#mzc-tokens").inner_text() == f"{metered:,}"

    # The rest of the run arrives live and adds once; a reload renders the same figure.
    page.fill("#mzc-input", "Ship it.")
    page.keyboard.press("Enter")
    page.locator("#mzc-readonly").wait_for()
    assert shown_quota(page) == stored_usage(chat_id)
    page.reload()
    assert shown_quota(page) == stored_usage(chat_id)
