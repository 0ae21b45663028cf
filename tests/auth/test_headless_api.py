"""The same account flows through allauth's headless JSON API (``/_allauth/app/v1/``) for SPA and mobile clients."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.auth.test_account_pages import PASSWORD, totp_now

pytestmark = pytest.mark.django_db
BASE = "/_allauth/app/v1"


class AppClient:
    """A headless "app" client: state travels in the X-Session-Token header, not cookies."""

    def __init__(self) -> None:
        self.client = Client()
        self.session_token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"HTTP_X_SESSION_TOKEN": self.session_token} if self.session_token else {}
        if method == "GET":
            response = self.client.get(BASE + path, **headers)
        else:
            response = getattr(self.client, method.lower())(
                BASE + path, data=json.dumps(body or {}), content_type="application/json", **headers
            )
        data = response.json()
        token = data.get("meta", {}).get("session_token")
        if token:
            self.session_token = token
        return response.status_code, data


def _verification_key() -> str:
    match = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_headless_signup_verify_login_totp_and_recovery_code() -> None:
    app = AppClient()
    status, data = app.call("POST", "/auth/signup", {"email": "grace@example.com", "password": PASSWORD})
    assert status == 401
    assert any(flow["id"] == "verify_email" and flow.get("is_pending") for flow in data["data"]["flows"])

    status, data = app.call("POST", "/auth/email/verify", {"key": _verification_key()})
    assert status == 200
    assert data["data"]["user"]["email"] == "grace@example.com"

    status, data = app.call("GET", "/account/authenticators/totp")
    assert status == 404
    secret = data["meta"]["secret"]
    status, data = app.call("POST", "/auth/reauthenticate", {"password": PASSWORD})
    assert status == 200
    status, data = app.call("POST", "/account/authenticators/totp", {"code": totp_now(secret)})
    assert status == 200, data
    status, data = app.call("GET", "/account/authenticators/recovery-codes")
    codes = data["data"]["unused_codes"]
    assert len(codes) == 10
    app.call("DELETE", "/auth/session")

    fresh = AppClient()
    status, data = fresh.call("POST", "/auth/login", {"email": "grace@example.com", "password": PASSWORD})
    assert status == 401
    assert any(flow["id"] == "mfa_authenticate" and flow.get("is_pending") for flow in data["data"]["flows"])
    status, data = fresh.call("POST", "/auth/2fa/authenticate", {"code": "123456"})
    assert status == 400
    status, data = fresh.call("POST", "/auth/2fa/authenticate", {"code": totp_now(secret)})
    assert status == 200, data
    assert data["meta"]["is_authenticated"] is True

    again = AppClient()
    again.call("POST", "/auth/login", {"email": "grace@example.com", "password": PASSWORD})
    status, data = again.call("POST", "/auth/2fa/authenticate", {"code": codes[1]})
    assert status == 200, data


def test_headless_login_answers_an_unknown_account_exactly_like_a_wrong_password(make_user) -> None:
    make_user("exists@example.com")
    known = AppClient().call("POST", "/auth/login", {"email": "exists@example.com", "password": "wrong-pass-1"})
    unknown = AppClient().call("POST", "/auth/login", {"email": "nobody@example.com", "password": "wrong-pass-1"})
    assert known == unknown
    assert known[0] == 400
    assert known[1]["errors"][0]["code"] == "email_password_mismatch"


def test_headless_password_reset_request_and_reset_by_key(make_user) -> None:
    make_user("hopper@example.com")
    app = AppClient()
    status, _ = app.call("POST", "/auth/password/request", {"email": "hopper@example.com"})
    assert status == 200
    match = re.search(r"/accounts/password/reset/key/([^/\s]+)/", mail.outbox[-1].body)
    assert match
    status, data = app.call("POST", "/auth/password/reset", {"key": match.group(1), "password": "fresh-secret-7788"})
    assert status in {200, 401}, data
    assert Client().login(username="hopper@example.com", password="fresh-secret-7788")


def test_headless_specification_is_served() -> None:
    response = Client().get("/_allauth/openapi.json")
    assert response.status_code == 200
    assert "/_allauth/{client}/v1/auth/login" in json.dumps(response.json()["paths"])
