"""A person in Chromium: sign up, verify by the emailed link, log in, create an organization, invite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mozaiks_core.auth.models import Invitation, Membership

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "browser-secret-2468"


def _mailed_link(mail_dir: Path, fragment: str) -> str:
    for message in sorted(mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime, reverse=True):
        match = re.search(rf"https?://\S+{fragment}\S*", message.read_text())
        if match:
            return match.group(0)
    raise AssertionError(f"no mail with {fragment} in {mail_dir}")


def _wait_until_signed_in(page, base: str) -> None:
    """Wait until the sign-in form is gone, then open the organizations page (where the shell shows the user)."""
    page.wait_for_url(lambda url: "/accounts/login/" not in url and "/accounts/confirm-email/" not in url)
    page.goto(f"{base}/orgs/")
    assert page.url == f"{base}/orgs/", "signed in"


def test_sign_up_verify_log_in_create_an_organization_and_invite_someone(asgi_server, page, tmp_path) -> None:
    mail_dir = tmp_path / "mail"
    server = asgi_server(env={
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    })
    base = server.info["url"]

    page.goto(f"{base}/accounts/signup/")
    assert page.locator(".shell-header").is_visible()
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))

    page.goto(_mailed_link(mail_dir, "/accounts/confirm-email/"))
    page.click("form.auth-form button[type=submit]")
    _wait_until_signed_in(page, base)
    page.click("summary.shell-menu-button")  # Sign out is in the account menu
    page.click("text=Sign out")
    page.wait_for_load_state()

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "browser@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    _wait_until_signed_in(page, base)
    assert "browser@example.com" in page.locator(".shell-account").inner_text()

    page.fill("input[name=name]", "Browser Co")
    page.click("text=Create organization")
    page.wait_for_url(re.compile(r"/orgs/browser-co/$"))
    assert "Browser Co" in page.locator("h1").inner_text()

    page.fill("input[name=email]", "friend@example.com")
    page.select_option("select[name=role]", "admin")
    page.click("text=Send invitation")
    page.wait_for_load_state()
    assert "Invitation sent to friend@example.com" in page.locator(".messages").inner_text()
    assert "friend@example.com" in page.locator("table[aria-label='Pending invitations']").inner_text()

    invitation = Invitation.objects.get(email="friend@example.com")
    assert invitation.role == "admin"
    assert invitation.organization.slug == "browser-co"
    assert Membership.objects.get(organization__slug="browser-co").user.email == "browser@example.com"
    assert "/invitations/" in _mailed_link(mail_dir, "/invitations/")


def test_a_passkey_is_enrolled_and_then_signs_in_without_a_password(asgi_server, page, make_user) -> None:
    from allauth.mfa.models import Authenticator
    from django.contrib.auth.hashers import make_password

    user = make_user("passkey@example.com")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")  # the server hashes like production
    user.save(update_fields=["password"])
    server = asgi_server()
    base = f"http://localhost:{server.info['port']}"  # WebAuthn refuses IP addresses as relying party ids
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "passkey@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    _wait_until_signed_in(page, base)
    page.goto(f"{base}/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url(re.compile(r"/2fa/webauthn/add/"))
    page.fill("input[name=name]", "laptop")
    page.check("input[name=passwordless]")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(re.compile(r"/2fa/(webauthn/|recovery-codes/)?$"))
    assert Authenticator.objects.filter(user__email="passkey@example.com", type="webauthn").exists()

    page.click("summary.shell-menu-button")  # Sign out is in the account menu
    page.click("text=Sign out")
    page.wait_for_load_state()
    page.goto(f"{base}/accounts/login/")
    page.click("text=Sign in with a passkey")
    _wait_until_signed_in(page, base)
    assert "passkey@example.com" in page.locator(".shell-account").inner_text()
