"""Hostile-input benchmark: ``python benchmarks/hostile_input.py`` (a fresh uvicorn per phase).

1. memory: 3,000 well-behaved socket cycles (open, ``chat_meta``, ``client.resume``, its
   boundary, close) on one fresh uvicorn, 3,000 cycles that send the 6,000-byte nested frame
   ``"[" * 3000 + "]" * 3000`` instead on another: each server's RSS after 100 warm-up cycles,
   after the 3,000, and after 10 s idle. The nested cycles must not cost more than 10 % over the
   well-behaved ones (they leaked every socket's sender and ping task when the frame crashed the
   consumer).
2. flood: ``/health`` latency (p50/p99 of sequential requests) for 5 s with the server idle, then
   for the 3 s in which one client sends up to 10,000 frames on its chat socket as fast as the
   connection takes them.

    python benchmarks/hostile_input.py [--cycles 3000] [--flood 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    CHAT_WORKFLOW,
    Processes,
    bench_user,
    benchmark_environment,
    free_port,
    write_chat_workflow,
)

TMP = Path(tempfile.mkdtemp(prefix="mozaiks-hostile-"))
PROCESSES = Processes(TMP)
NESTED = "[" * 3000 + "]" * 3000
CONCURRENCY = 20


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(env: dict[str, str]) -> tuple[int, int]:
    """A fresh uvicorn (the Procfile's options); returns (port, pid)."""
    port = free_port()
    process = PROCESSES.spawn(f"uvicorn-{port}", [sys.executable, "-m", "uvicorn", "mozaiks_core.asgi:application",
                                                  "--host", "127.0.0.1", "--port", str(port), "--ws-max-size",
                                                  "1048576", "--log-level", "warning"], env)
    PROCESSES.wait_for_health(port, f"uvicorn on {port}")
    return port, process.pid


async def cycle(url: str, origin: str, nested: bool) -> str:
    """One socket: open, read chat_meta, send one frame, read its answer, close; returns what happened."""
    import websockets

    try:
        async with websockets.connect(url, origin=origin, open_timeout=30) as socket:
            await asyncio.wait_for(socket.recv(), 30)
            await socket.send(NESTED if nested else json.dumps({"type": "client.resume", "last_seq": -1}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 30))
            return answer["data"].get("error_code", answer["type"])
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else 'without a close frame'}"
    except Exception as error:
        return type(error).__name__


async def cycles(url: str, origin: str, count: int, nested: bool) -> dict[str, int]:
    """``count`` cycles, :data:`CONCURRENCY` at a time; how many ended which way."""
    outcomes: dict[str, int] = {}
    for start in range(0, count, CONCURRENCY):
        batch = await asyncio.gather(*(cycle(url, origin, nested) for _ in range(min(CONCURRENCY, count - start))))
        for outcome in batch:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def memory_phase(env: dict[str, str], url_for: Any, count: int, nested: bool) -> tuple[float, float, float, dict]:
    """RSS after warm-up, after ``count`` cycles and after 10 s idle, on a fresh server."""
    port, pid = start_server(env)
    url, origin = url_for(port)
    asyncio.run(cycles(url, origin, 100, nested=False))
    time.sleep(2)
    before = rss_mb(pid)
    outcomes = asyncio.run(cycles(url, origin, count, nested))
    after = rss_mb(pid)
    time.sleep(10)
    idle = rss_mb(pid)
    PROCESSES.stop(PROCESSES.started[-1])
    return before, after, idle, outcomes


def probe_health(port: int, stop: threading.Event, latencies: list[float]) -> None:
    """Sequential ``/health`` requests until ``stop``; their latencies in ms."""
    while not stop.is_set():
        started = time.perf_counter()
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10):
            pass
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


async def flood(url: str, origin: str, frames: int, window: float) -> tuple[int, int]:
    """Send ``frames`` small frames on one socket as fast as the connection takes them, for at most
    ``window`` seconds (the /health probe runs meanwhile). Returns (frames sent, frames answered)."""
    import websockets

    sent = replies = 0
    async with websockets.connect(url, origin=origin, open_timeout=30, max_queue=None) as socket:
        await asyncio.wait_for(socket.recv(), 30)

        async def drain() -> None:
            nonlocal replies
            with contextlib.suppress(Exception):
                while True:
                    await socket.recv()
                    replies += 1

        async def send_all() -> None:
            nonlocal sent
            for _ in range(frames):
                await socket.send('{"type": "pong"}')
                sent += 1

        reader, sender = asyncio.ensure_future(drain()), asyncio.ensure_future(send_all())
        await asyncio.sleep(window)
        sender.cancel()
        reader.cancel()
        socket.transport.abort()
    return sent, replies


def measure_health(port: int, action: Any) -> tuple[list[float], Any]:
    """``/health`` latencies (ms) measured while ``action()`` runs, and what it returned."""
    latencies: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=probe_health, args=(port, stop, latencies))
    prober.start()
    try:
        result = action()
    finally:
        stop.set()
        prober.join()
    return latencies, result


def flood_phase(env: dict[str, str], url_for: Any, frames: int) -> None:
    """/health p50/p99/max idle, then during a ``frames``-frame flood from one client."""
    port, _ = start_server(env)
    url, origin = url_for(port)
    row = "  /health {:<22} n={:<5} p50 {:6.1f} ms  p99 {:6.1f} ms  max {:6.1f} ms"
    idle, _ = measure_health(port, lambda: time.sleep(5))
    print(row.format("idle", len(idle), *percentiles(idle)))
    during, (sent, replies) = measure_health(port, lambda: asyncio.run(flood(url, origin, frames, 3.0)))
    print(row.format(f"during {frames}-frame flood", len(during), *percentiles(during)))
    print(f"  in the 3 s window the client got {sent} frames into the connection; the server answered {replies}")
    PROCESSES.stop(PROCESSES.started[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=3000)
    parser.add_argument("--flood", type=int, default=10000)
    args = parser.parse_args()
    write_chat_workflow(TMP / "workflows", rounds=5)
    env = {**os.environ, **benchmark_environment(TMP), "MOZAIKS_WORKFLOW_ROOTS": str(TMP / "workflows"),
           "MOZAIKS_WS_MAX_SOCKETS_PER_USER": "1000", "MOZAIKS_GC_FREEZE": "true"}
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.models import ChatSession
    from mozaiks_core.workspace_info import app_id

    call_command("migrate", verbosity=0)
    user = bench_user("hostile@example.com")
    session = ChatSession.objects.create(user=user, organization=user.memberships.first().organization,
                                         app_id=app_id(), workflow=CHAT_WORKFLOW)
    query = f"{services.websocket_path(session)}?access_token={services.issue_chat_token(session)}"

    def url_for(port: int) -> tuple[str, str]:
        return f"ws://127.0.0.1:{port}{query}", f"http://127.0.0.1:{port}"

    print(f"uvicorn, SQLite, production settings; {os.cpu_count()} cores; python {sys.version.split()[0]}")
    rows = {}
    for label, nested in (("well-behaved", False), ("nested frame", True)):
        before, after, idle, outcomes = memory_phase(env, url_for, args.cycles, nested)
        rows[label] = idle
        print(f"  {args.cycles} {label:<13} cycles: RSS {before:6.1f} MB after warm-up, {after:6.1f} MB after, "
              f"{idle:6.1f} MB after 10 s idle; outcomes {outcomes}")
    ratio = rows["nested frame"] / rows["well-behaved"]
    print(f"  -> nested / well-behaved RSS after idle: {ratio:.3f} (target <= 1.10)")
    flood_phase(env, url_for, args.flood)
    PROCESSES.stop()


if __name__ == "__main__":
    main()
