"""Forms of the organization pages (validation is the services' job; forms shape the input)."""

from __future__ import annotations

from django import forms

from mozaiks_core.auth.api_keys import SCOPES
from mozaiks_core.auth.models import Membership


class OrganizationForm(forms.Form):
    """Create a team organization."""

    name = forms.CharField(max_length=120, label="Organization name")


class InvitationForm(forms.Form):
    """Invite someone by email with a role."""

    email = forms.CharField(max_length=254, label="Email address", widget=forms.EmailInput)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    """Change a member's role."""

    role = forms.ChoiceField(choices=Membership.Role.choices)


class APIKeyForm(forms.Form):
    """Create an API key."""

    name = forms.CharField(max_length=100, label="Name", help_text="What uses this key, e.g. 'nightly export'.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {meaning}") for scope, meaning in SCOPES.items()],
        initial=["read", "write"],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(required=False, label="Expires (optional)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
