"""What every part of ``runs/`` reads: this process's runner id and the run timing settings."""

from __future__ import annotations

import os
import socket
import uuid

from django.conf import settings

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def budget_check_seconds() -> float:
    """How long a "budget not exhausted" answer is trusted (``MOZAIKS_BUDGET_CHECK_SECONDS``).

    Metering results reach the run at once; this only bounds how late a run notices that
    *other* runs of the organization used the budget up.
    """
    return float(getattr(settings, "MOZAIKS_BUDGET_CHECK_SECONDS", 1.0))


def heartbeat_seconds() -> float:
    """How often a run proves it is alive (``MOZAIKS_RUN_HEARTBEAT_SECONDS``)."""
    return float(getattr(settings, "MOZAIKS_RUN_HEARTBEAT_SECONDS", 10))
