"""Real server processes for tests: an ASGI server and a Celery worker sharing the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]


def database_url_for_tests() -> str:
    """A DATABASE_URL that points a child process at the test database of this session."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        name = str(config["NAME"])
        if name.startswith(("file:", ":memory:")) or "mode=memory" in name:
            raise RuntimeError("the SQLite test database must be a file to be shared with a child process")
        return f"sqlite:///{'/' + name.lstrip('/')}" if name.startswith("/") else f"sqlite:///{name}"
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process: same settings, secret and test database as this process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings",
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url_for_tests(),
            "MOZAIKS_APP_DIR": str(settings.MOZAIKS_APP_DIR),
            "MOZAIKS_VAR_DIR": str(settings.VAR_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if getattr(settings, "MOZAIKS_WORKFLOW_ROOTS", None):
        env["MOZAIKS_WORKFLOW_ROOTS"] = ",".join(str(root) for root in settings.MOZAIKS_WORKFLOW_ROOTS)
    env.update(extra or {})
    return env


@dataclass
class ManagedProcess:
    """A child process whose output goes to a log file, stopped with SIGTERM then SIGKILL."""

    process: subprocess.Popen[bytes]
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process group (a crash, for fault tests)."""
        if self.alive():
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop gracefully, then forcefully."""
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def start_process(command: list[str], env: Mapping[str, str], log_path: Path,
                  cwd: Path | None = None) -> ManagedProcess:
    """Start ``command`` (in ``cwd``, default the repository) in its own process group, output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command, cwd=cwd or REPO_ROOT, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ManagedProcess(process=process, log_path=log_path)


def wait_for_http(url: str, process: ManagedProcess, timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 200, failing with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"server exited early:\n{process.log()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{process.log()[-4000:]}")


def asgi_server_command(server: str, port: int, application: str = "mozaiks_core.asgi:application") -> list[str]:
    """The argv that serves ``application`` on ``port`` with uvicorn or daphne."""
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", application, "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--ws-max-size", "16777216"]
    return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]


def celery_worker_command(queues: str = "mozaiks.runs,mozaiks.default", concurrency: int = 4) -> list[str]:
    """The argv of a Celery worker consuming ``queues`` with a thread pool."""
    return [sys.executable, "-m", "celery", "-A", "mozaiks_core", "worker", "-Q", queues, "-P", "threads",
            "-c", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]


def wait_for_log(process: ManagedProcess, needle: str, timeout: float = 30.0) -> None:
    """Wait until the process prints ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in process.log():
            return
        if not process.alive():
            raise RuntimeError(f"process exited early:\n{process.log()[-4000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"process did not print {needle!r} within {timeout}s:\n{process.log()[-4000:]}")
