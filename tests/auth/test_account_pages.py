"""Account flows through allauth's real pages, rendered inside the MozaiksCore shell."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client

from mozaiks_core.auth.models import Membership

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-42"


def _link(message: mail.EmailMessage, fragment: str) -> str:
    match = re.search(rf"https?://[^\s]+{fragment}[^\s]*", message.body)
    assert match, message.body
    return match.group(0).replace("http://testserver", "")


def totp_now(secret: str, step: int = 0) -> str:
    """The TOTP code an authenticator app would show now (``step`` periods ahead)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def _sign_up_and_verify(client: Client, email: str) -> None:
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/confirm-email/"
    link = _link(mail.outbox[-1], "/accounts/confirm-email/")
    page = client.get(link)
    assert page.status_code == 200
    confirmed = client.post(link)
    assert confirmed.status_code == 302


def test_signup_page_renders_inside_the_shell_with_the_app_name() -> None:
    response = Client().get("/accounts/signup/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="shell-header"' in html
    assert "auth-entrance" in html
    assert 'class="auth-form"' in html
    assert "mozaiks_auth/auth.css" in html


def test_signup_verify_login_enrol_totp_then_log_in_with_totp_and_with_a_recovery_code() -> None:
    client = Client()
    _sign_up_and_verify(client, "ada@example.com")
    client.post("/accounts/logout/")

    login = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/api/me").json()["email"] == "ada@example.com"
    membership = Membership.objects.get(user__email="ada@example.com")
    assert membership.organization.personal
    assert membership.role == "owner"

    gate = client.get("/accounts/2fa/totp/activate/")
    assert gate["Location"].startswith("/accounts/reauthenticate/"), "enrolling asks for the password again"
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200
    secret = activate.context["form"].secret
    enrolled = client.post("/accounts/2fa/totp/activate/", {"code": totp_now(secret)})
    assert enrolled.status_code == 302
    codes = client.get("/accounts/2fa/recovery-codes/").context["unused_codes"]
    assert len(codes) == 10
    client.post("/accounts/logout/")

    first = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert first["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/api/me").status_code == 401
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code" in wrong.content.decode()
    second = client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret)})
    assert second.status_code == 302
    assert client.get("/api/me").status_code == 200
    client.post("/accounts/logout/")

    client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    recovered = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert recovered.status_code == 302
    assert client.get("/api/me").json()["email"] == "ada@example.com"
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    reused = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert reused.status_code == 200, "a recovery code works once"


def test_login_is_refused_until_the_email_is_verified() -> None:
    client = Client()
    client.post("/accounts/signup/", {"email": "late@example.com", "password1": PASSWORD, "password2": PASSWORD})
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "late@example.com", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/api/me").status_code == 401


def test_password_reset_by_emailed_link_sets_a_new_password(make_user) -> None:
    make_user("reset@example.com")
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "reset@example.com"})
    assert response.status_code == 302
    link = _link(mail.outbox[-1], "/accounts/password/reset/key/")
    form_page = client.get(link, follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(action, {"password1": "a-brand-new-secret-77", "password2": "a-brand-new-secret-77"})
    assert done.status_code == 302
    assert Client().login(username="reset@example.com", password="a-brand-new-secret-77")


def test_password_reset_for_an_unknown_address_looks_the_same_and_reveals_nothing(make_user) -> None:
    make_user("known@example.com")
    known = Client().post("/accounts/password/reset/", {"email": "known@example.com"})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    reset_mail, unknown_mail = mail.outbox[-2], mail.outbox[-1]
    assert reset_mail.to == ["known@example.com"]
    assert "/accounts/password/reset/key/" in reset_mail.body
    assert unknown_mail.to == ["nobody@example.com"], "only the address owner learns there is no account"
    assert "/accounts/password/reset/key/" not in unknown_mail.body


def test_signing_up_with_a_taken_email_does_not_reveal_the_account(make_user) -> None:
    make_user("taken@example.com")
    response = Client().post(
        "/accounts/signup/", {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "already" in mail.outbox[-1].body.lower()


def test_password_change_keeps_the_session_and_takes_the_new_password(make_user, client_for) -> None:
    user = make_user("change@example.com")
    client = client_for(user)
    response = client.post("/accounts/password/change/", {
        "oldpassword": PASSWORD, "password1": "another-long-secret-91", "password2": "another-long-secret-91"
    })
    assert response.status_code == 302
    assert client.get("/api/me").status_code == 200
    assert Client().login(username="change@example.com", password="another-long-secret-91")
