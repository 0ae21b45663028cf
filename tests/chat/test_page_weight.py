"""Page weight: the chat page's own JavaScript and CSS (the shell's included) stay within 100 KB uncompressed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.chat.factories import make_chat, make_user

STATIC = Path(__file__).resolve().parents[2] / "mozaiks_core" / "static"
BUDGET_BYTES = 100 * 1024
IMPORT = re.compile(r"""(?:import|from)\s*["'](\./[\w./-]+\.js)["']""")


def own_assets(html: str) -> set[Path]:
    """The shell's and the chat's static files the page references, plus every module they import."""
    found = {STATIC / url for url in re.findall(r'(?:src|href)="/static/(mozaiks/[\w./-]+\.(?:js|css))"', html)}
    pending = [path for path in found if path.suffix == ".js"]
    while pending:
        module = pending.pop()
        for relative in IMPORT.findall(module.read_text()):
            target = (module.parent / relative).resolve()
            if target not in found:
                found.add(target)
                pending.append(target)
    return found


@pytest.mark.django_db
def test_the_conversation_pages_own_js_and_css_weigh_at_most_100_kb(client: Client) -> None:
    user = make_user("weight@example.com")
    client.force_login(user)
    html = client.get(f"/chat/{make_chat(user).chat_id}/").content.decode()
    assets = own_assets(html)
    names = {path.name for path in assets}
    assert {"shell.js", "shell.css", "chat.js", "chat.css", "connection.js", "markdown.js", "ui-tools.js",
            "transcript.js"} <= names
    total = sum(path.stat().st_size for path in assets)
    assert total <= BUDGET_BYTES, f"{total} bytes in {sorted(names)}"
