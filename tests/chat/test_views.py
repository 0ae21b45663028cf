"""The chat pages as the server renders them: access, history, search, embedded transcript."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from tests.chat.factories import make_chat, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> object:
    return make_user("alice@example.com")


@pytest.fixture
def alice_client(client: Client, alice: object) -> Client:
    client.force_login(alice)
    return client


def test_the_chat_pages_ask_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/chat/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_home_page_lists_only_the_users_own_chats_newest_first(alice_client: Client, alice: object) -> None:
    make_chat(alice, title="Quarterly report")
    make_chat(alice, title="Travel plan", workflow="Planner")
    make_chat(make_user("bob@example.com"), title="Bob's secret")
    page = alice_client.get("/chat/").content.decode()
    assert "Quarterly report" in page
    assert "Travel plan" in page
    assert "Bob&#x27;s secret" not in page
    assert "Bob's secret" not in page
    assert page.index("Travel plan") < page.index("Quarterly report")


def test_searching_the_history_filters_by_title_or_workflow(alice_client: Client, alice: object) -> None:
    make_chat(alice, title="Quarterly report")
    make_chat(alice, title="Travel plan", workflow="Planner")
    by_title = alice_client.get("/chat/", {"q": "quarter"}).content.decode()
    assert "Quarterly report" in by_title
    assert "Travel plan" not in by_title
    by_workflow = alice_client.get("/chat/", {"q": "planner"}).content.decode()
    assert "Travel plan" in by_workflow
    assert "Quarterly report" not in by_workflow
    assert "No chat matches" in alice_client.get("/chat/", {"q": "nothing-like-this"}).content.decode()


def test_another_users_chat_url_is_a_404(alice_client: Client) -> None:
    bobs = make_chat(make_user("bob@example.com"), title="Bob's secret")
    response = alice_client.get(f"/chat/{bobs.chat_id}/")
    assert response.status_code == 404
    assert "Bob" not in response.content.decode()


def test_an_unknown_or_malformed_chat_id_is_a_404(alice_client: Client) -> None:
    assert alice_client.get("/chat/0123456789abcdef0123456789abcdef/").status_code == 404
    assert alice_client.get("/chat/%3Cscript%3E/").status_code == 404


def test_the_conversation_page_embeds_the_transcript_as_inert_json(alice_client: Client, alice: object) -> None:
    hostile = "</script><script>alert(1)</script>"
    chat = make_chat(alice, events=[("chat.text", {"agent": "Writer", "content": hostile}),
                                    ("chat.run_complete", {"status": "completed"})])
    page = alice_client.get(f"/chat/{chat.chat_id}/").content.decode()
    assert "<script>alert(1)" not in page
    boot = json.loads(re.search(r'<script id="mzc-boot" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert [event["seq"] for event in boot["events"]] == [0, 1]
    assert boot["events"][0]["data"]["content"] == hostile
    assert boot["ws_path"] == f"/ws/Demo/{chat.app_id}/{chat.chat_id}/{alice.pk}"
    assert boot["quota_through_seq"] == 1  # the rendered quota holds both events; later usage adds
    assert "This chat has finished" in page


def test_the_component_manifest_lists_workspace_modules_and_serves_them(client: Client, settings: object,
                                                                       tmp_path: object) -> None:
    folder = tmp_path / "ui" / "components"
    folder.mkdir(parents=True)
    (folder / "PriceCard.js").write_text("export function render(payload) { return document.createElement('p'); }\n")
    (folder / "not valid.js").write_text("")
    settings.MOZAIKS_APP_DIR = tmp_path
    manifest = client.get("/chat/components.json").json()
    assert manifest == {"components": [{"name": "PriceCard", "url": "/chat/components/PriceCard.js"}]}
    module = client.get("/chat/components/PriceCard.js")
    assert module.status_code == 200
    assert module["Content-Type"].startswith("text/javascript")
    assert client.get("/chat/components/Missing.js").status_code == 404


def test_with_debug_the_chat_home_names_a_broken_workflow_bundle(alice_client: Client, settings: object,
                                                                tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    broken = Path(str(tmp_path)) / "Broken"
    shutil.copytree(Path(__file__).resolve().parents[1] / "runtime/bundles/fixtures/HelloWorld", broken)
    (broken / "orchestrator.yaml").write_text("workflow_name: Broken\norchestration_pattern: [\n")
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(tmp_path)]
    settings.DEBUG = True
    html = alice_client.get("/chat/").content.decode()
    assert "Some workflows could not be loaded" in html
    assert "Broken/orchestrator.yaml" in html
    settings.DEBUG = False
    assert "Some workflows could not be loaded" not in alice_client.get("/chat/").content.decode()


def test_capabilities_carry_the_workflows_display_name_and_description(alice_client: Client) -> None:
    capabilities = alice_client.get("/api/ai/capabilities").json()["capabilities"]
    launch = next(item for item in capabilities if item["workflow_name"] == "ProductLaunch")
    assert launch["label"] == "Product launch"
    assert launch["description"].startswith("Plan a product launch")


def test_a_paid_capability_on_free_says_which_plans_include_it(alice_client: Client) -> None:
    capabilities = alice_client.get("/api/ai/capabilities").json()["capabilities"]
    export = next(item for item in capabilities if item["capability_id"] == "chat-export")
    assert export["allowed"] is False
    assert export["reason"] == "ENTITLEMENT_REQUIRED"
    assert export["message"] == "Not in your plan: Export chats is included in Pro and Team."
