"""Social login, enabled purely by configuration, against a fake GitHub (no network)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from mozaiks_core.auth.models import Membership

pytestmark = pytest.mark.django_db


class FakeGitHub(requests.adapters.BaseAdapter):
    """A requests transport that answers GitHub's OAuth token and profile endpoints."""

    def __init__(self, profile: dict[str, Any], emails: list[dict[str, Any]]) -> None:
        super().__init__()
        self.profile, self.emails = profile, emails
        self.calls: list[tuple[str, str, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        self.calls.append((request.method or "", request.url or "", body))
        routes = {
            ("POST", "https://github.com/login/oauth/access_token"):
                {"access_token": "gho_fake", "token_type": "bearer", "scope": "read:user,user:email"},
            ("GET", "https://api.github.com/user"): self.profile,
            ("GET", "https://api.github.com/user/emails"): self.emails,
        }
        payload = routes.get((request.method or "", (request.url or "").split("?")[0]))
        response = requests.Response()
        response.status_code = 200 if payload is not None else 404
        response._content = json.dumps(payload if payload is not None else {"message": "Not Found"}).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def github(settings, monkeypatch) -> FakeGitHub:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "gh-client", "secret": "gh-secret", "key": ""}],
                   "SCOPE": ["read:user", "user:email"]},
    }
    fake = FakeGitHub(
        profile={"id": 4242, "login": "octo", "name": "Octo Cat", "email": "octo@example.com"},
        emails=[{"email": "octo@example.com", "primary": True, "verified": True}],
    )

    def session(self: DefaultSocialAccountAdapter) -> requests.Session:
        http = requests.Session()
        http.mount("https://", fake)
        return http

    monkeypatch.setattr(DefaultSocialAccountAdapter, "get_requests_session", session)
    return fake


def _authorize(client: Client) -> dict[str, list[str]]:
    response = client.post("/accounts/github/login/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://github.com/login/oauth/authorize"
    return parse_qs(location.query)


def test_the_login_page_offers_github_only_when_it_is_configured(settings, github) -> None:
    assert "Continue with GitHub" in Client().get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert "Continue with GitHub" not in Client().get("/accounts/login/").content.decode()


def test_github_login_creates_a_verified_account_with_a_personal_organization(github) -> None:
    client = Client()
    query = _authorize(client)
    assert query["client_id"] == ["gh-client"]
    callback = client.get("/accounts/github/login/callback/", {"code": "fake-code", "state": query["state"][0]})
    assert callback.status_code == 302, callback.content[:500]

    me = client.get("/api/me").json()
    assert me["email"] == "octo@example.com"
    account = SocialAccount.objects.get(provider="github")
    assert account.uid == "4242"
    assert Membership.objects.get(user=account.user).organization.personal
    token_call = next(call for call in github.calls if call[0] == "POST")
    assert "code=fake-code" in token_call[2]
    assert "client_secret=gh-secret" in token_call[2]


def test_a_forged_state_is_refused_without_calling_github(github) -> None:
    client = Client()
    _authorize(client)
    response = client.get("/accounts/github/login/callback/", {"code": "fake-code", "state": "forged"})
    assert response.status_code == 401
    assert "Third-Party Login Failure" in response.content.decode()
    assert 'class="shell-header"' in response.content.decode()
    assert github.calls == []
    assert not SocialAccount.objects.exists()


def test_github_does_not_take_over_an_existing_account_with_the_same_email(github, make_user) -> None:
    existing = make_user("octo@example.com")
    client = Client()
    query = _authorize(client)
    client.get("/accounts/github/login/callback/", {"code": "fake-code", "state": query["state"][0]})
    assert client.get("/api/me").status_code == 401
    assert not SocialAccount.objects.filter(user=existing).exists()


def test_google_is_offered_once_its_client_id_and_secret_are_configured(settings) -> None:
    assert "Continue with Google" not in Client().get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "g-client", "secret": "g-secret", "key": ""}], "SCOPE": ["email"]},
    }
    assert "Continue with Google" in Client().get("/accounts/login/").content.decode()
    response = Client().post("/accounts/google/login/")
    assert response["Location"].startswith("https://accounts.google.com/o/oauth2/v2/auth?client_id=g-client")


def test_an_operator_can_enable_github_with_a_social_application_in_the_admin_instead(settings) -> None:
    from allauth.socialaccount.models import SocialApp

    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert "Continue with GitHub" not in Client().get("/accounts/login/").content.decode()
    SocialApp.objects.create(provider="github", name="GitHub", client_id="db-client", secret="db-secret")
    assert "Continue with GitHub" in Client().get("/accounts/login/").content.decode()
    assert "client_id=db-client" in Client().post("/accounts/github/login/")["Location"]
