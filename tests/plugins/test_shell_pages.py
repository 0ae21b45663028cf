"""The shell as served: role-aware navigation, the account menu, error pages and the favicon."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from tests.chat.factories import make_user

pytestmark = pytest.mark.django_db


def _member_of_a_team(client: Client) -> Any:
    owner = make_user("boss@example.com")
    team = create_organization(name="Crew", owner=owner)
    member = make_user("crew@example.com")
    Membership.objects.create(user=member, organization=team, role="member")
    client.force_login(member)
    client.post("/orgs/switch/", {"organization": team.slug})
    return team


def test_a_member_is_not_offered_the_activity_page_that_would_refuse_them(client: Client) -> None:
    _member_of_a_team(client)
    labels = [item["label"] for item in client.get("/api/navigation").json()["items"]]
    assert "Activity" not in labels
    html = client.get("/chat/").content.decode()
    assert 'href="/activity/"' not in html
    assert "API keys" not in html


def test_an_owner_sees_activity_and_api_keys_in_the_shell(client: Client) -> None:
    client.force_login(make_user("solo@example.com"))
    labels = [item["label"] for item in client.get("/api/navigation").json()["items"]]
    assert "Activity" in labels
    html = client.get("/chat/").content.decode()
    for link in ("/billing/", "/billing/pricing/", "/orgs/", "/accounts/email/", "/accounts/2fa/", "/api-keys/"):
        assert link in html, link


def test_the_expected_403_of_the_activity_page_is_styled_and_logs_no_traceback(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    _member_of_a_team(client)
    with caplog.at_level(logging.WARNING):
        response = client.get("/activity/", follow=True)
    assert response.status_code == 403
    assert "shell-header" in response.content.decode()
    assert "owners and admins" in response.content.decode()
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


def test_an_unknown_console_transcript_is_an_admin_page_not_the_debug_404(client: Client, settings: Any) -> None:
    settings.DEBUG = True
    client.force_login(make_user("ops@example.com", is_staff=True, is_superuser=True))
    response = client.get("/admin/console/transcripts/no-such-chat/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "technical_404" not in html
    assert "Using the URLconf" not in html
    assert "There is no chat with the id" in html


def test_the_404_page_is_the_shells_when_debug_is_off(client: Client, settings: Any) -> None:
    settings.DEBUG = False
    response = client.get("/there-is-no-such-page/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert "shell-header" in response.content.decode()


def test_favicon_ico_serves_the_brands_favicon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)


def test_switching_organization_returns_to_the_page_the_user_was_on_but_never_off_site(client: Client) -> None:
    team = _member_of_a_team(client)
    back = client.post("/orgs/switch/", {"organization": team.slug, "next": "/billing/"})
    assert back["Location"] == "/billing/"
    away = client.post("/orgs/switch/", {"organization": team.slug, "next": "https://evil.example/"})
    assert away["Location"] == "/orgs/"


def test_account_pages_read_like_the_shell_labels_without_colons_and_no_pointless_buttons(client: Client) -> None:
    login = client.get("/accounts/login/").content.decode()
    assert ">Email:<" not in login
    assert 'class="field field-check"' in login, "Remember me sits beside its checkbox"
    client.force_login(make_user("one@example.com"))
    emails = client.get("/accounts/email/").content.decode()
    assert "Make Primary" not in emails
    assert "Make the selected address primary" not in emails, "one address: nothing to make primary"
    assert "Send the verification email again" not in emails, "the address is verified"


def test_the_signup_email_names_the_app_not_the_host(client: Client, settings: Any) -> None:
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post("/accounts/signup/", {"email": "new@example.com", "password1": "a-long-test-password-1",
                                      "password2": "a-long-test-password-1"})
    [message] = mail.outbox
    assert message.subject.startswith("[Mozaiks Demo] ")
    assert message.body.startswith("Hello from Mozaiks Demo,")
    assert "127.0.0.1" not in message.body.split("http", 1)[0], "the greeting names the app, not the host"
    assert "sign up for Mozaiks Demo" in message.body
