"""What the benchmarks share: their settings, child processes, free ports, the chat workflow, the user.

``runtime.py`` and ``load.py`` drive the same UserDriven chat: each user message gets one
scripted answer, then an input request, for as many rounds as a run lasts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHAT_WORKFLOW = "BenchChat"


def benchmark_environment(tmp: Path, database_url: str | None = None) -> dict[str, str]:
    """Settings of a benchmark process: production mode (``DEBUG=true`` records every SQL statement),
    a fresh secret, the scripted model, and a throwaway SQLite database under ``tmp`` (or ``database_url``)."""
    import os
    import secrets

    return {
        "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings",
        "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.sqlite3",
        "MOZAIKS_VAR_DIR": str(tmp),
        "MOZAIKS_LLM_PROVIDER": "scripted",
        "LOG_LEVEL": "warning",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
    }


class Processes:
    """The benchmark's child processes (servers, workers, services), each logging to ``log_dir/<name>.log``."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``command`` in its own process group (so :meth:`stop` ends its children too)."""
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env or os.environ.copy(), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float = 60) -> None:
        """Poll ``check`` until it is true; a timeout names ``what`` and where the logs are."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if check():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not come up; logs in {self.log_dir}")

    def wait_for_health(self, port: int, what: str, timeout: float = 60) -> None:
        """Wait until ``/health`` on ``port`` answers 200."""
        self.wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).status == 200,
                        what, timeout)

    def stop(self, process: subprocess.Popen[bytes] | None = None) -> None:
        """SIGTERM ``process`` (or every process, newest first) and wait for it."""
        targets = [process] if process is not None else list(reversed(self.started))
        for target in targets:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(target.pid, signal.SIGTERM)
        for target in targets:
            with contextlib.suppress(subprocess.TimeoutExpired):
                target.wait(timeout=20)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_chat_workflow(root: Path, rounds: int) -> None:
    """The benchmark chat bundle under ``root`` (a ``MOZAIKS_WORKFLOW_ROOTS`` entry), ``rounds`` answers long."""
    folder = root / CHAT_WORKFLOW
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orchestrator.yaml").write_text(
        f"workflow_name: {CHAT_WORKFLOW}\nmax_turns: {rounds * 3}\nhuman_in_the_loop: true\n"
        "startup_mode: UserDriven\norchestration_pattern: DefaultPattern\ninitial_agent: EchoAgent\n")
    (folder / "agents.yaml").write_text(
        "agents:\n  - name: EchoAgent\n    prompt_sections:\n      - {id: role, heading: Role, content: Answer.}\n")
    (folder / "handoffs.yaml").write_text(
        "handoff_rules:\n  - {source_agent: EchoAgent, target_agent: user, handoff_type: after_work}\n")
    turns = "".join(f"  - {{agent: EchoAgent, say: 'answer {index}'}}\n" for index in range(rounds))
    (folder / "scripted_model.yaml").write_text("turns:\n" + turns)


def bench_user(email: str) -> Any:
    """A user whose organization has no token limit (the benchmarks measure runs, not the free plan's budget).

    Every LLM call is still metered: the override only lifts the limit, as an operator would for
    a customer on a custom contract.
    """
    from django.contrib.auth import get_user_model

    from mozaiks_core.entitlements.models import EntitlementOverride
    from mozaiks_core.entitlements.services import token_meter_key

    user = get_user_model().objects.create_user(username=email, email=email, password="bench-password-123")
    organization = user.memberships.first().organization
    EntitlementOverride.objects.create(organization=organization, key=token_meter_key(), unlimited=True,
                                       note="benchmark: unlimited tokens")
    return user
