"""The Django admin in the app's name: header, title, and a login form that asks for the email.

Accounts sign in with their email address (allauth), so the admin's "Username" label misled
operators; the form is Django's own with the field relabelled.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm


class EmailAdminLoginForm(AdminAuthenticationForm):
    """The admin login, asking for the email address the account signs in with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})


def brand_admin_site(app_name: str, site: admin.AdminSite = admin.site) -> None:
    """Name the admin after the app ("Acme administration") and use the email login form."""
    site.site_header = f"{app_name} administration"
    site.site_title = f"{app_name} admin"
    site.index_title = "Operations"
    site.login_form = EmailAdminLoginForm
