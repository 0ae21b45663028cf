"""The Django admin in the app's name: header, title, and a login form that asks for the email.

Accounts sign in with their email address (allauth), so the admin's "Username" label misled
operators; the form is Django's own with the field relabelled.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.functional import lazy


class EmailAdminLoginForm(AdminAuthenticationForm):
    """The admin login, asking for the email address the account signs in with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})


def _app_name() -> str:
    from mozaiks_core.plugins.shell import theme_config

    return theme_config()["app_name"] or "MozaiksCore"


def brand_admin_site(site: admin.AdminSite = admin.site) -> None:
    """Name the admin after the app ("Acme administration") and use the email login form.

    The names are lazy: the workspace is read on the first admin page, not while apps load.
    """
    site.site_header = lazy(lambda: f"{_app_name()} administration", str)()
    site.site_title = lazy(lambda: f"{_app_name()} admin", str)()
    site.index_title = "Operations"
    site.login_form = EmailAdminLoginForm
