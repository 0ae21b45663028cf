"""A small process supervisor for the multi-process deployment on one machine (no Docker).

``python -m mozaiks_core.supervisor Procfile`` starts every line of a Procfile, prefixes each
process's output with its name, restarts a process that dies (with backoff), and stops all of
them on SIGINT/SIGTERM. ``make run-scaled`` uses it; on a real cluster each Procfile line is a
container or a systemd unit instead.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


@dataclass
class ProcessSpec:
    """One Procfile line: a name and the command it runs."""

    name: str
    command: list[str]


@dataclass
class Supervised:
    """A running process with its restart bookkeeping."""

    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)


def expand(text: str, env: dict[str, str]) -> str:
    """Expand ``${NAME}`` and ``${NAME:-default}`` from ``env``."""
    return _VARIABLE.sub(lambda match: env.get(match.group(1)) or (match.group(2) or ""), text)


def parse_procfile(path: Path, env: dict[str, str]) -> list[ProcessSpec]:
    """Read ``name: command`` lines; blank lines and ``#`` comments are ignored."""
    specs = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, command = line.partition(":")
        if not separator or not name.strip() or not command.strip():
            raise SystemExit(f"{path}:{number}: expected 'name: command', got {raw!r}")
        specs.append(ProcessSpec(name.strip(), shlex.split(expand(command.strip(), env))))
    return specs


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:>8} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _start(entry: Supervised, env: dict[str, str]) -> None:
    bin_dir = str(Path(sys.executable).parent)
    command = entry.spec.command
    executable = Path(bin_dir, command[0])
    argv = [str(executable), *command[1:]] if executable.exists() else command
    entry.process = subprocess.Popen(  # noqa: S603  (commands come from the operator's Procfile)
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    entry.started_at = time.monotonic()
    threading.Thread(target=_pump, args=(entry.spec.name, entry.process.stdout), daemon=True).start()


def reset_metrics_dir(env: dict[str, str]) -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before the processes start: its files are the metrics of one
    run of the host's processes (prometheus_client's multiprocess mode), never of an earlier one."""
    directory = env.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def _process_gone(pid: int, env: dict[str, str]) -> None:
    """A child exited: its live gauges (open sockets) stop counting; its counters stay in the sums."""
    if env.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        from mozaiks_core.observability.metrics import process_identifier

        multiprocess.mark_process_dead(process_identifier(pid), env["PROMETHEUS_MULTIPROC_DIR"])


def supervise(specs: list[ProcessSpec], env: dict[str, str], max_restarts: int = 5) -> int:
    """Run every spec until a signal arrives; restart crashed processes with backoff."""
    entries = [Supervised(spec) for spec in specs]
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for entry in entries:
        _start(entry, env)
    exit_code = 0
    while not stopping.is_set():
        for entry in entries:
            assert entry.process is not None
            code = entry.process.poll()
            if code is None:
                continue
            _process_gone(entry.process.pid, env)
            if time.monotonic() - entry.started_at > 60:
                entry.restarts = 0
            if entry.restarts >= max_restarts:
                sys.stdout.write(f"{entry.spec.name:>8} | exited {code} {max_restarts} times; stopping everything\n")
                exit_code = 1
                stopping.set()
                break
            entry.restarts += 1
            delay = min(2 ** entry.restarts, 30)
            sys.stdout.write(f"{entry.spec.name:>8} | exited with {code}; restarting in {delay}s\n")
            time.sleep(delay)
            _start(entry, env)
        stopping.wait(0.5)
    for entry in entries:
        if entry.process and entry.process.poll() is None:
            entry.process.terminate()
    deadline = time.monotonic() + 15
    for entry in entries:
        if entry.process:
            try:
                entry.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                entry.process.kill()
    return exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m mozaiks_core.supervisor [Procfile]``."""
    arguments = argv if argv is not None else sys.argv[1:]
    procfile = Path(arguments[0] if arguments else "Procfile")
    env = dict(os.environ)
    reset_metrics_dir(env)
    return supervise(parse_procfile(procfile, env), env)


if __name__ == "__main__":
    raise SystemExit(main())
