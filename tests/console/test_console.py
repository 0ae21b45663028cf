"""The operator console in the Django admin: dashboard charts, drill-down links, transcripts."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client

from mozaiks_core.console.charts import Bar, bar_chart
from tests.chat.factories import make_chat, make_user, personal_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client: Client) -> Client:
    client.force_login(make_user("ops@example.com", is_staff=True, is_superuser=True))
    return client


def _usage(chat: object, tokens: int) -> None:
    apps.get_model("mozaiks_runtime", "UsageRecord").objects.create(
        chat=chat, agent="Writer", model="scripted", prompt_tokens=tokens - 10, completion_tokens=10,
        total_tokens=tokens, workflow=chat.workflow, user=chat.user, organization=personal_org(chat.user),
        transaction_id=f"t-{chat.chat_id}-{tokens}")


def test_the_dashboard_is_for_staff_only(client: Client) -> None:
    assert client.get("/admin/console/").status_code == 302
    client.force_login(make_user("plain@example.com"))
    response = client.get("/admin/console/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_console(operator_client: Client) -> None:
    assert 'href="/admin/console/"' in operator_client.get("/admin/").content.decode()


def test_the_dashboard_charts_runs_and_tokens_with_links_that_open_admin_lists(operator_client: Client) -> None:
    user = make_user("ada@example.com")
    done = make_chat(user, workflow="ProductLaunch", status="completed")
    make_chat(user, workflow="ProductLaunch", status="failed")
    make_chat(user, workflow="Helper", status="running")
    _usage(done, 1200)
    page = operator_client.get("/admin/console/").content.decode()
    for title in ("Runs per day", "Runs per workflow", "Tokens per day", "Tokens per workflow"):
        assert f'aria-label="{title}"' in page
    assert "<svg" in page
    assert re.search(r'<span class="value"><a href="[^"]+">1</a></span>\s*Active runs', page)
    assert re.search(r'<span class="value"><a href="[^"]+">1</a></span>\s*Failed runs', page)
    links = set(re.findall(r'href="(/admin/mozaiks_[^"]+)"', page))
    assert links
    for link in links:
        response = operator_client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert "?e=1" not in response.get("Location", ""), link


def test_the_transcript_viewer_shows_every_event_read_only_and_escaped(operator_client: Client) -> None:
    chat = make_chat(make_user("ada@example.com"), events=[
        ("chat.text", {"agent": "Writer", "content": "<script>alert(1)</script> hello"}),
        ("chat.usage_delta", {"agent_name": "Writer", "total_tokens": 42, "model_name": "scripted"}),
        ("chat.run_complete", {"status": "completed"}),
    ])
    response = operator_client.get(f"/admin/console/transcripts/{chat.chat_id}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<tr data-seq="(\d+)"', page) == ["0", "1", "2"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in page
    assert "42 tokens (scripted)" in page
    assert "<form" not in page.split('id="console-timeline"')[1]
    assert operator_client.get("/admin/console/transcripts/nope/").status_code == 404


def test_the_transcript_viewer_needs_the_view_permission(client: Client) -> None:
    chat = make_chat(make_user("ada@example.com"))
    client.force_login(make_user("staff@example.com", is_staff=True))
    assert client.get(f"/admin/console/transcripts/{chat.chat_id}/").status_code == 403


def test_chart_labels_are_escaped_and_an_empty_chart_says_so() -> None:
    svg = str(bar_chart("Runs <b>", [Bar('<script>"x"</script>', 3, "/admin/?a=1&b=2")]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'href="/admin/?a=1&amp;b=2"' in svg
    assert "No data yet" in str(bar_chart("Runs", []))
