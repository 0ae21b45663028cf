"""Helpers of the browser tests: sign in, axe in light and dark mode, screenshots, one-row checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Screenshots refresh docs/images only when asked (MOZAIKS_SCREENSHOTS=1); otherwise test-results/.
IMAGES = ROOT / ("docs/images" if os.environ.get("MOZAIKS_SCREENSHOTS") else "test-results")
AXE = ROOT / "tests" / "chat" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a-long-test-password-1"


def screenshot(page: Any, name: str, **options: Any) -> None:
    """Save a screenshot as ``IMAGES/name`` (docs/images when MOZAIKS_SCREENSHOTS=1)."""
    IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=str(IMAGES / name), **options)


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through allauth's login form and wait to leave it."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}; run: make test-deps")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in result if violation["impact"] in {"serious", "critical"}]


def axe_in_both_themes(page: Any) -> dict[str, list[str]]:
    """axe on the current page with the OS in light mode, then in dark mode (no stored choice)."""
    found: dict[str, list[str]] = {}
    page.evaluate("localStorage.removeItem('mz-theme'); delete document.documentElement.dataset.theme")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found[scheme] = axe_violations(page)
    page.emulate_media(color_scheme="light")
    return found


def header_layout(page: Any) -> dict[str, Any]:
    """The shell header's height and the labels in it that broke onto a second line."""
    return page.evaluate("""() => {
      const header = document.querySelector('.shell-header');
      const wrapped = [...header.querySelectorAll('a, button, summary, .badge')]
        .filter((node) => node.offsetParent !== null && node.getClientRects().length > 1
                 || (node.offsetParent !== null && node.getBoundingClientRect().height > 48))
        .map((node) => node.textContent.trim());
      return {height: header.getBoundingClientRect().height, wrapped,
              overflow: document.documentElement.scrollWidth > window.innerWidth};
    }""")
