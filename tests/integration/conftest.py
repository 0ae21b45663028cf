"""Fixtures of the integration tests: the accounts fixtures (people, teams, signed-in clients)."""

from tests.auth.conftest import (  # noqa: F401 - re-exported fixtures
    _fast_password_hashing,
    client_for,
    make_team,
    make_user,
)
