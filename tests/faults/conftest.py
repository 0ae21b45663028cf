"""Fault-test fixtures: the transport tests' workflows, served by real ASGI and Celery processes on Redis."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.transport.conftest import stop_runs_left_behind, transport_workflows

__all__ = ["scaled", "stop_runs_left_behind", "transport_workflows"]

HEARTBEAT = "1"  # seconds: a dead run is noticed after 3 missed heartbeats


@pytest.fixture
def scaled(redis_channel_layer: str, redis_url: str, settings: Any) -> dict[str, str]:
    """The environment of the scale-out topology: Celery runs, Redis pub/sub layer, one shared prefix.

    This process uses the same layer (``redis_channel_layer``) and heartbeat, so what it publishes
    or reaps reaches the servers' sockets exactly as beat's reaper would.
    """
    settings.MOZAIKS_RUN_HEARTBEAT_SECONDS = float(HEARTBEAT)
    return {"REDIS_URL": redis_url, "MOZAIKS_CHANNEL_PREFIX": redis_channel_layer, "MOZAIKS_CELERY_EAGER": "false",
            "MOZAIKS_RUN_EXECUTOR": "celery", "MOZAIKS_RUN_HEARTBEAT_SECONDS": HEARTBEAT}
