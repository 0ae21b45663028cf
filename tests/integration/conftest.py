"""Fixtures of the integration tests: the accounts fixtures (people, teams, signed-in clients)."""

from tests.auth.conftest import (  # noqa: F401 - re-exported fixtures
    _fast_password_hashing,
    _fresh_rate_limits,
    client_for,
    make_team,
    make_user,
)
