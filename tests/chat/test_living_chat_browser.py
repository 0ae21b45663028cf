"""Living in the chat, in Chromium against a live server: streamed text stays in view, forms keep
their answers, chats are renamed, deleted and restored, failed runs are retried, structured results
read as tables and lists, and the labels say what is true."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from mozaiks_core.runtime.models import ChatSession
from tests.chat.factories import make_chat, make_user
from tests.support.browser import axe_in_both_themes, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BRIEF = {"product_name": "Rocket", "audience": "Developers", "launch_date": "2027-01-15", "budget": 5000}
RESULT = {"status": "success", "product": "Rocket", "budget": 5000,
          "split": {"email": 833.33, "social": 1666.67, "paid_search": 2500.0}}


def _stream_frame(text: str) -> str:
    return json.dumps({"type": "chat.print", "data": {"agent": "StrategistAgent", "content": text},
                       "timestamp": timezone.now().isoformat()})


def _at_bottom(page: Any) -> bool:
    return page.evaluate("(() => { const t = document.getElementById('mzc-transcript');"
                         " return t.scrollHeight - t.scrollTop - t.clientHeight < 4; })()")


def test_streamed_text_stays_in_view_until_the_reader_scrolls_up_then_a_pill_brings_it_back(
    asgi_server: Any, page: Any
) -> None:
    user = make_user("reader@example.com")
    events = [("chat.text", {"agent": "IntakeAgent" if n % 2 else "user", "content": f"Message number {n}. " * 6})
              for n in range(30)]
    chat = make_chat(user, events=events, status="running", workflow="ProductLaunch")
    base = asgi_server().info["url"]
    sockets: list[Any] = []
    page.route_web_socket(re.compile(r"/ws/"), lambda route: sockets.append(route))  # the test is the server
    sign_in(page, base, "reader@example.com")
    page.goto(f"{base}/chat/{chat.chat_id}/")
    page.wait_for_function("document.querySelectorAll('#mzc-transcript > li').length === 30")
    page.wait_for_timeout(200)
    assert sockets, "the page opened its chat socket"
    sockets[-1].send(json.dumps({"type": "chat.resume_boundary", "data": {"status": "running"},
                                 "timestamp": timezone.now().isoformat()}))
    assert _at_bottom(page), "a reopened chat starts at its newest message"

    for word in ["The ", "plan ", "grows ", "line ", "by ", "line.\n\n"] * 8:
        sockets[-1].send(_stream_frame(word))
    page.locator(".mzc-draft").get_by_text("The plan grows").first.wait_for()
    page.wait_for_timeout(100)
    assert _at_bottom(page), "the growing reply is followed"
    assert page.locator("#mzc-new-messages").is_hidden()

    page.locator("#mzc-transcript").evaluate("(t) => { t.scrollTop = 0; }")
    page.wait_for_timeout(100)
    sockets[-1].send(_stream_frame("More text the reader has not seen yet. "))
    pill = page.get_by_role("button", name="New messages below")
    pill.wait_for()
    assert page.locator("#mzc-transcript").evaluate("(t) => t.scrollTop") == 0, "the reader keeps their place"
    screenshot(page, "chat-new-messages.png")
    pill.click()
    page.wait_for_timeout(100)
    assert _at_bottom(page)
    assert pill.is_hidden()


def test_a_finished_chat_shows_structured_results_readably_and_honest_labels(asgi_server: Any, page: Any) -> None:
    user = make_user("labels@example.com")
    chat = make_chat(user, workflow="ProductLaunch", status="completed", title="Rocket launch", events=[
        ("chat.text", {"agent": "StrategistAgent", "content": "Splitting the budget."}),
        ("chat.tool_call", {"agent": "StrategistAgent", "tool_name": "estimate_launch_budget",
                            "tool_call_id": "call-1", "arguments": {"channels": ["email", "social", "paid_search"]}}),
        ("chat.tool_response", {"tool_call_id": "call-1", "tool_name": "estimate_launch_budget",
                                "content": json.dumps(RESULT)}),
        ("chat.text", {"agent": "StrategistAgent", "content": "The budget split is in the breakdown above."}),
        ("chat.run_complete", {"status": "completed"}),
    ])
    base = asgi_server().info["url"]
    sign_in(page, base, "labels@example.com")
    page.goto(f"{base}/chat/{chat.chat_id}/")
    structured = page.locator(".mzc-structured")
    structured.wait_for()
    assert structured.locator("dt", has_text="Product").is_visible()
    assert structured.locator("dd", has_text="Rocket").first.is_visible()
    assert structured.locator("dt", has_text="Paid search").is_visible()
    assert structured.get_by_text("2,500", exact=True).is_visible()
    assert page.locator(".mzc-step-result").is_hidden(), "raw JSON waits behind Details"
    page.locator(".mzc-step summary").click()
    assert '"paid_search": 2500' in page.locator(".mzc-step-result").inner_text()
    page.locator(".mzc-step summary").click()
    assert page.locator("#mzc-connection").inner_text() == "Chat ended", "not 'Live' on a completed chat"
    assert page.locator("#mzc-status").inner_text() == "Completed"
    assert page.get_by_text("Scripted model", exact=True).count() == 1
    assert page.locator("#mzc-retry-form").is_hidden()
    screenshot(page, "chat-structured-result.png", full_page=True)
    assert axe_in_both_themes(page) == {"light": [], "dark": []}


def test_a_user_answers_the_form_renames_deletes_and_restores_a_demo_chat(asgi_server: Any, page: Any) -> None:
    make_user("owner@example.com")
    base = asgi_server().info["url"]
    sign_in(page, base, "owner@example.com")
    page.goto(f"{base}/chat/")
    page.get_by_role("button", name="Start Product launch").click()
    page.wait_for_url("**/chat/*/")
    chat_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.locator("form.mzc-tool-form button:not([disabled])").wait_for()
    assert page.locator("#mzc-prompt").inner_text() == "Answer the form above to continue."
    page.get_by_label("Product name *").fill("Rocket")
    page.get_by_label("Who is it for? *").fill("Developers")
    page.get_by_label("Launch date *").fill("2027-01-15")
    page.get_by_label("Marketing budget (USD) *").fill("5000")
    page.get_by_role("button", name="Send brief").click()
    page.locator("#mzc-input:not([disabled])").wait_for()

    page.reload()
    page.locator("#mzc-input:not([disabled])").wait_for()
    assert page.get_by_label("Product name *").input_value() == "Rocket", "the answer is shown after a reload"
    assert page.get_by_label("Marketing budget (USD) *").input_value() == "5000"
    assert page.locator("h1").inner_text() == "Rocket", "the first answer names the chat"
    screenshot(page, "chat-answered-form.png")

    page.locator(".mzc-rename summary").click()
    page.get_by_label("Chat title (up to 120 characters)").fill("Rocket launch plan")
    page.get_by_role("button", name="Save title").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Rocket launch plan"

    page.get_by_role("button", name="Delete").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_text("Delete this chat?").wait_for()
    dialog.get_by_role("button", name="Keep it").click()
    assert page.url.endswith(f"/chat/{chat_id}/"), "cancelling the dialog keeps the chat"
    page.get_by_role("button", name="Delete").click()
    page.locator("dialog[open]").get_by_role("button", name="Delete chat").click()
    page.wait_for_url(re.compile(r"/chat/\?deleted="))
    assert "“Rocket launch plan” was deleted." in page.locator(".mzc-undo").inner_text()
    assert ChatSession.objects.get(chat_id=chat_id).deleted_at is not None
    page.get_by_role("button", name="Undo").click()
    page.wait_for_url(f"{base}/chat/")
    history = page.locator("#mzc-history")
    assert "Rocket launch plan" in history.inner_text()
    assert "Product launch" in history.inner_text(), "the workflow's display name, not ProductLaunch"
    page.fill("#mzc-q", "no such chat anywhere")
    page.get_by_text("No chat matches your search.").wait_for()
    screenshot(page, "chat-history-search.png")


def test_after_a_model_error_retry_runs_again_on_the_same_chat_keeping_its_history(
    asgi_server: Any, page: Any, tmp_path: Path
) -> None:
    make_user("retry@example.com")
    script = tmp_path / "short.yaml"  # one reply, then the script is exhausted: the run fails
    script.write_text("turns:\n- say: \"Let me look at your brief.\"\n")
    base = asgi_server(env={"MOZAIKS_LLM_SCRIPT": str(script)}).info["url"]
    sign_in(page, base, "retry@example.com")
    page.goto(f"{base}/chat/")
    page.get_by_role("button", name="Start Product launch").click()
    page.wait_for_url("**/chat/*/")
    chat_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.locator("#mzc-input:not([disabled])").wait_for()
    page.fill("#mzc-input", "Here it is.")
    page.keyboard.press("Enter")
    page.locator("#mzc-banner").get_by_text("The run hit an error").wait_for()
    retry = page.get_by_role("button", name="Retry")
    retry.wait_for()
    assert page.locator("#mzc-status").inner_text() == "Failed"
    before = page.locator("#mzc-transcript > li").count()
    screenshot(page, "chat-retry.png")
    retry.click()
    page.wait_for_url(f"{base}/chat/{chat_id}/")
    assert "a new run continues this chat" in page.locator(".messages").inner_text()
    page.wait_for_function(f"document.querySelectorAll('#mzc-transcript > li').length > {before}")
    assert page.locator("#mzc-transcript").get_by_text("Let me look at your brief.").count() >= 1
    page.get_by_role("button", name="Retry").wait_for()  # the exhausted script fails the new run too
    assert ChatSession.objects.filter(chat_id=chat_id).count() == 1
