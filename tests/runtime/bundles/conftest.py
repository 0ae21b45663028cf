"""Fixture bundles of the loader tests."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    """The folder holding the fixture bundles and roots (errors/, warnings/, engine/)."""
    return FIXTURES
