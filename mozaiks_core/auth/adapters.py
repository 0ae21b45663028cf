"""The allauth adapter: the one place accounts behaviour is customised (see docs/accounts.md)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Signup can be closed by configuration; emails carry the app's name."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """``MOZAIKS_SIGNUP_OPEN=false`` closes public signup (invitations still work for existing users)."""
        return bool(getattr(settings, "MOZAIKS_SIGNUP_OPEN", True))

    def clean_email(self, email: str) -> str:
        """Refuse addresses longer than the database column or RFC 5321 allows, with a message saying so."""
        email = super().clean_email(email)
        local, _, _domain = email.rpartition("@")
        if len(email) > 254 or len(local) > 64:
            raise ValidationError("That email address is too long (at most 64 characters before the @, 254 in all).")
        return email

    def format_email_subject(self, subject: str) -> str:
        """Prefix subjects with the app name unless a prefix is configured."""
        prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
        if not prefix:
            from mozaiks_core.plugins.shell import theme_config

            prefix = f"[{theme_config()['app_name'] or 'MozaiksCore'}] "
        return f"{prefix}{subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Every account email names the app and links to it (not "Hello from 127.0.0.1:8000!")."""
        from mozaiks_core.plugins.shell import theme_config

        request = context.get("request") or getattr(self, "request", None)
        context = {**context, "app_name": theme_config()["app_name"] or "MozaiksCore",
                   "app_url": request.build_absolute_uri("/") if request is not None else ""}
        super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request: HttpRequest) -> Any:
        """Land on the organization the user just joined through an invitation, else the default."""
        return _joined_organization_url(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> Any:
        """After signing up from an invitation link, land on the organization just joined."""
        return _joined_organization_url(request) or super().get_signup_redirect_url(request)


def _joined_organization_url(request: HttpRequest) -> str | None:
    from mozaiks_core.auth.caller import SESSION_ORG_KEY
    from mozaiks_core.auth.models import Organization

    if not request.session.pop("mozaiks_joined_via_invitation", False):
        return None
    organization = Organization.objects.filter(pk=request.session.get(SESSION_ORG_KEY)).first()
    return f"/orgs/{organization.slug}/" if organization is not None else None
