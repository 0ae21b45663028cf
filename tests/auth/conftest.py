"""Fixtures for the accounts tests: people with verified emails, team organizations, clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.auth.services import create_organization

PASSWORD = "correct-horse-battery-42"


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """Create an active user with a verified primary email (and, via the signal, a personal org)."""

    def make(email: str | None = None, password: str = PASSWORD) -> Any:
        address = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        user = get_user_model().objects.create_user(username=address, email=address, password=password)
        EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def make_team(make_user: Callable[..., Any]) -> Callable[..., Organization]:
    """Create a team organization owned by ``owner`` (a new user when omitted) with extra members."""

    def make(owner: Any = None, name: str = "Acme", **members: str) -> Organization:
        organization = create_organization(name=name, owner=owner or make_user())
        for email, role in members.items():
            Membership.objects.create(user=make_user(email.replace("__", "@")), organization=organization, role=role)
        return organization

    return make


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    """A test client signed in as ``user`` (session auth; the test client skips CSRF checks)."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 is deliberately slow; these tests create many users, so they hash with MD5."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # for users that a server subprocess signs in
    ]

