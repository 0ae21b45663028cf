"""A freshly generated project in Chromium: `make demo`'s account signs in, the menu reaches the chat,
and the Welcome workflow runs to its end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.foundation.test_startproject import _clean_env, _run
from tests.support.browser import axe_in_both_themes, screenshot, sign_in
from tests.support.processes import start_process, wait_for_http
from tests.support.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_generated_project_signs_in_with_the_demo_account_and_completes_its_welcome_chat(
    tmp_path: Path, page: Any
) -> None:
    created = _run([str(Path(sys.executable).with_name("mozaiks")), "startproject", "mysite"], tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "mysite"
    assert _run([sys.executable, "manage.py", "migrate", "--noinput"], project).returncode == 0
    port = free_port()
    demo = _run([sys.executable, "manage.py", "mozaiks_demo", "--url", f"http://127.0.0.1:{port}"], project)
    assert demo.returncode == 0, demo.stderr
    assert f"Sign in at http://127.0.0.1:{port}/accounts/login/ with demo@example.com" in demo.stdout
    validate = _run([sys.executable, "manage.py", "mozaiks", "validate"], project)
    assert "0 error(s), 0 warning(s)" in validate.stdout, validate.stdout

    server = start_process([sys.executable, "manage.py", "mozaiks_serve", f"127.0.0.1:{port}"],
                           _clean_env(project), tmp_path / "server.log", cwd=project)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/health", server, timeout=60)
        page.goto(f"{base}/")
        assert page.get_by_role("link", name="Open the chat").is_visible()
        sign_in(page, base, "demo@example.com", "demo-password-123")
        page.goto(f"{base}/")
        page.locator("#shell-nav").get_by_role("link", name="Chat").click()
        page.wait_for_url(f"{base}/chat/")
        card = page.locator(".mzc-capability").filter(has_text="Welcome")
        assert "tell the agent your name" in card.inner_text()
        card.get_by_role("button", name="Start Welcome").click()
        page.wait_for_url("**/chat/*/")
        page.locator("#mzc-transcript").get_by_text("What's your name?").wait_for()
        page.locator("#mzc-input:not([disabled])").wait_for()
        page.fill("#mzc-input", "Ada")
        page.keyboard.press("Enter")
        page.locator("#mzc-transcript").get_by_text("You're all set").wait_for()
        page.locator("#mzc-readonly").wait_for()
        assert page.locator("#mzc-status").inner_text() == "Completed"
        screenshot(page, "generated-project-welcome.png", full_page=True)
        assert axe_in_both_themes(page) == {"light": [], "dark": []}
        page.locator("#shell-nav").get_by_role("link", name="Notes").click()
        page.wait_for_url(f"{base}/notes")
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()[-4000:]


def test_make_run_refuses_a_busy_port_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    created = _run([str(Path(sys.executable).with_name("mozaiks")), "startproject", "busysite"], tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "busysite"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = subprocess.run([sys.executable, "manage.py", "mozaiks_serve", f"127.0.0.1:{port}"], cwd=project,
                                env=_clean_env(project), capture_output=True, text=True, timeout=60)
    assert served.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in served.stderr
    assert f"make run PORT={port + 1}" in served.stderr
    dry = subprocess.run(["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"], cwd=project, capture_output=True,
                         text=True, timeout=30)
    assert "mozaiks_serve 0.0.0.0:8123" in dry.stdout, dry.stdout + dry.stderr
