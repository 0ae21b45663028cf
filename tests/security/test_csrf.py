"""CSRF on every state-changing form and API route: a signed-in browser POST without a token is refused.

The URL patterns and API operations are enumerated from the live URLconf, so a route added later
is covered without touching this file. A route may skip CSRF only if it is listed in
``EXEMPT_BY_DESIGN`` with the reason it is safe; any other exempt route fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from tests.runtime.transport.conftest import make_user

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT_BY_DESIGN = {
    # Authenticated by the Stripe-Signature HMAC, never by a cookie.
    "billing/webhooks/stripe/": "signed by Stripe",
    # Google One Tap posts a Google-signed ID token; allauth verifies it (and its own CSRF double-submit cookie).
    "accounts/google/login/token/": "Google-signed ID token",
}
# allauth's headless *app* API: clients send X-Session-Token headers, which a foreign site cannot set.
EXEMPT_PREFIXES = ("_allauth/app/v1/",)
# "tasks" is a page route of the demo workspace: it reaches the pattern serving current page routes.
SAMPLES = ("1", "auth", "abc", "1-abc", "tasks")


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _sample_path(route: str, pattern: URLPattern) -> str | None:
    """A concrete path that resolves to ``pattern`` (converters and regex groups filled with samples)."""
    for sample in SAMPLES:
        path = re.sub(r"\(\?P<\w+>[^)]*\)", sample, route).replace("^", "").replace("$", "")
        path = re.sub(r"<[^>]+>", sample, path)
        try:
            match = resolve("/" + path)
        except Resolver404:
            continue
        if match.func is pattern.callback or getattr(match.func, "__wrapped__", None) is pattern.callback:
            return "/" + path
    return None


def _path_view(callback: Any) -> Any | None:
    """The django-ninja PathView behind a URL pattern's view (it is held in the view's closure)."""
    for cell in getattr(callback, "__closure__", None) or ():
        if hasattr(cell.cell_contents, "operations"):
            return cell.cell_contents
    return None


def _api_operations() -> Iterator[tuple[str, str, Any]]:
    """(path, method, operation) of every django-ninja operation with an unsafe method."""
    for route, pattern in _routes(get_resolver().url_patterns):
        for operation in getattr(_path_view(pattern.callback), "operations", ()):
            for method in operation.methods:
                if method in UNSAFE:
                    yield "/" + re.sub(r"<[^>]+>", "1", route), method, operation


@pytest.fixture
def browser(db: None) -> Client:
    """A signed-in browser that sends no CSRF token (what a forged cross-site form does)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf@example.com"))
    return client


def test_every_django_view_refuses_a_signed_in_post_without_a_csrf_token(browser: Client) -> None:
    unresolvable, accepted, exempt = [], [], []
    for route, pattern in _routes(get_resolver().url_patterns):
        if _path_view(pattern.callback) is not None:
            continue  # django-ninja operations: checked by the API test below
        if getattr(pattern.callback, "csrf_exempt", False):
            if route not in EXEMPT_BY_DESIGN and not route.startswith(EXEMPT_PREFIXES):
                exempt.append(route)
            continue
        path = _sample_path(route, pattern)
        if path is None:
            unresolvable.append(route)
            continue
        response = browser.post(path, {"name": "forged"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"{path} -> {response.status_code}")
    assert not exempt, f"csrf_exempt views not justified in EXEMPT_BY_DESIGN: {exempt}"
    assert not accepted, f"forged posts not refused by CSRF: {accepted}"
    assert not unresolvable, f"cannot build a sample path for: {unresolvable}"


def test_every_state_changing_api_route_refuses_a_session_without_a_csrf_token(browser: Client) -> None:
    operations = list(_api_operations())
    assert len(operations) >= 15, "the enumeration found too few API operations to be trusted"
    accepted, unauthenticated = [], []
    for path, method, operation in operations:
        if not operation.auth_callbacks or operation.csrf_exempt:
            unauthenticated.append(f"{method} {path}")
            continue
        response = browser.generic(method, path, "{}", content_type="application/json")
        if response.status_code not in (401, 403):
            accepted.append(f"{method} {path} -> {response.status_code}")
    assert not unauthenticated, f"state-changing API routes without authentication or CSRF-exempt: {unauthenticated}"
    assert not accepted, f"session requests without CSRF were not refused: {accepted}"


def test_the_same_session_with_its_csrf_token_is_let_through_so_the_refusals_are_about_csrf(
        browser: Client) -> None:
    browser.get("/accounts/email/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/orgs", {"name": "Acme"}, content_type="application/json",
                            headers={"X-CSRFToken": token})
    assert response.status_code in (200, 201), response.content
    refused = browser.post("/api/orgs", {"name": "Acme"}, content_type="application/json")
    assert refused.status_code == 403
