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


def reserve_tokens() -> int:
    """Completion tokens reserved for an LLM call made without ``max_tokens`` (``MOZAIKS_LLM_RESERVE_TOKENS``).

    Under a hard token limit each call reserves its estimated prompt plus this ceiling (or the
    call's own ``max_tokens``) before it is made; the reservation is settled to the real usage
    after. A lower value admits more calls near the limit and risks a larger overshoot by one call.
    """
    return int(getattr(settings, "MOZAIKS_LLM_RESERVE_TOKENS", 1024))


def heartbeat_seconds() -> float:
    """How often a run proves it is alive (``MOZAIKS_RUN_HEARTBEAT_SECONDS``)."""
    return float(getattr(settings, "MOZAIKS_RUN_HEARTBEAT_SECONDS", 10))
