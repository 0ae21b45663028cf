"""Helpers for tests that need real services: fail loudly in CI, skip locally."""

from __future__ import annotations

import os
import socket
from contextlib import closing

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_missing(message: str) -> None:
    """A required service is missing: a failure under CI=true, a skip on a developer machine."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
