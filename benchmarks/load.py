"""Scale-out load benchmark: ``python benchmarks/load.py`` (figures printed beside the echo baseline).

The topology of ``make run-scaled`` on this machine: two uvicorn processes (clients alternate
between them), two Celery workers consuming ``mozaiks.runs`` (threads), PostgreSQL, and Redis as
broker and pub/sub channel layer. PostgreSQL and Redis are PRIVATE instances started for the
run (a throw-away cluster on a free port, so 200 runs' connections never crowd a shared server).

For each N in ``--chats`` (default 50 and 200):
- echo: N closed-loop clients of a bare Channels echo consumer (``benchmarks/runtime_asgi.py``:
  one hop through the same layer) on the same two processes: events/s, p50/p95/p99 latency;
- chat: N real chats, each a scripted multi-turn workflow run by the Celery workers, the client
  answering every input request at once: events/s, p50/p95/p99 delivery latency (the event's
  timestamp, stamped when the run emits it, before it is queued and committed → client
  receipt), turn completion time (message → next input request), errors.
Then ``--idle`` (default 1,000) idle authenticated chat sockets (and as many echo sockets) across
both processes: server RSS delta per socket.

    python benchmarks/load.py [--chats 50,200] [--idle 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import CHAT_WORKFLOW, Processes, bench_user, free_port, write_chat_workflow  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="mozaiks-load-"))
PROCESSES = Processes(TMP)
spawn, wait_until = PROCESSES.spawn, PROCESSES.wait_until


def private_postgres() -> str:
    """A throw-away PostgreSQL cluster (as the postgres user) with room for every run's connection."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    folder, port = TMP / "pg", free_port()
    folder.mkdir()
    as_postgres = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        TMP.chmod(0o755)
        subprocess.run(["chown", "postgres", str(folder)], check=True)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(binaries / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "postgres"], check=True, stdout=subprocess.DEVNULL)
    spawn("postgres", [*as_postgres, str(binaries / "postgres"), "-D", str(folder / "data"), "-p", str(port),
                       "-k", str(folder), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=500",
                       "-c", "shared_buffers=256MB"])
    wait_until(lambda: subprocess.run([str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                                      capture_output=True).returncode == 0, "private PostgreSQL")
    subprocess.run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bench"],
                   check=True)
    return f"postgres://postgres@127.0.0.1:{port}/bench"


def private_redis() -> str:
    port = free_port()
    spawn("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", str(TMP), "--maxclients", "20000"])
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: redis.Redis.from_url(url).ping(), "private Redis")
    return url


def configure(database_url: str, redis_url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "MOZAIKS_CHANNEL_PREFIX": f"bench-{secrets.token_hex(4)}", "MOZAIKS_RUN_EXECUTOR": "celery",
        "MOZAIKS_CELERY_EAGER": "false", "MOZAIKS_VAR_DIR": str(TMP), "MOZAIKS_WORKFLOW_ROOTS": str(TMP / "workflows"),
        "MOZAIKS_LLM_PROVIDER": "scripted", "LOG_LEVEL": "warning", "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "false",
        "PYTHONUNBUFFERED": "1",
    })
    for variable in ("MOZAIKS_LLM_SCRIPT", "OPENAI_API_KEY"):
        os.environ.pop(variable, None)


def start_topology(max_chats: int) -> list[int]:
    """Two uvicorn processes and two run workers; returns the web ports."""
    ports = [free_port(), free_port()]
    for index, port in enumerate(ports, start=1):
        spawn(f"web{index}", [sys.executable, "-m", "uvicorn", "benchmarks.runtime_asgi:application", "--host",
                              "127.0.0.1", "--port", str(port), "--log-level", "warning", "--backlog", "4096",
                              "--ws-max-size", "1048576"])
    threads = str(max_chats // 2 + 8)  # a run waiting for its user holds one worker thread
    for index in (1, 2):
        spawn(f"runs{index}", [sys.executable, "-m", "celery", "-A", "mozaiks_core", "worker", "-Q", "mozaiks.runs",
                               "-P", "threads", "-c", threads, "-n", f"runs{index}@%h", "--without-gossip",
                               "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"])
    for port in ports:
        PROCESSES.wait_for_health(port, f"uvicorn on {port}")
    time.sleep(3)  # workers connect to the broker
    return ports


@dataclass
class Stats:
    measure_from: float
    measure_to: float
    latencies: list[float] = field(default_factory=list)
    turns: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, frame: dict[str, Any], received: float) -> None:
        if self.measure_from <= received <= self.measure_to and "seq" in frame:
            sent = datetime.fromisoformat(frame["timestamp"].replace("Z", "+00:00")).timestamp()
            self.latencies.append(received - sent)

    def summary(self, seconds: float) -> tuple[float, float, float, float]:
        ordered = sorted(self.latencies) or [float("nan")]

        def pick(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

        return len(self.latencies) / seconds, pick(0.5), pick(0.95), pick(0.99)


async def chat_client(url: str, origin: str, stats: Stats) -> None:
    try:
        async with websockets.connect(url, origin=origin, max_queue=None, open_timeout=120) as ws:
            json.loads(await ws.recv())  # chat_meta
            asked = time.time()
            await ws.send(json.dumps({"type": "user.input.submit", "text": "go"}))
            while time.time() < stats.measure_to:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                now = time.time()
                stats.record(frame, now)
                if frame["type"] == "chat.input_request":
                    if stats.measure_from <= now <= stats.measure_to:
                        stats.turns.append(now - asked)
                    asked = time.time()
                    await ws.send(json.dumps({"type": "user.input.submit", "text": "next",
                                              "input_request_id": frame["data"]["request_id"]}))
                elif frame["type"] in ("chat.run_complete", "chat.error"):
                    raise RuntimeError(f"chat ended early: {frame['data']}")
    except Exception as error:  # counted and reported: the target is zero
        stats.errors.append(f"{type(error).__name__}: {error}"[:200])


async def echo_client(url: str, origin: str, stats: Stats) -> None:
    try:
        async with websockets.connect(url, origin=origin, max_queue=None, open_timeout=120) as ws:
            while time.time() < stats.measure_to:
                asked = time.time()
                await ws.send('{"type": "echo"}')
                stats.record(json.loads(await asyncio.wait_for(ws.recv(), 60)), time.time())
                if stats.measure_from <= time.time() <= stats.measure_to:
                    stats.turns.append(time.time() - asked)
    except Exception as error:
        stats.errors.append(f"{type(error).__name__}: {error}"[:200])


async def drive(kind: str, urls: list[tuple[str, str]], warmup: float, seconds: float) -> Stats:
    now = time.time()
    stats = Stats(now + warmup + 2, now + warmup + 2 + seconds)
    client = chat_client if kind == "chat" else echo_client
    await asyncio.gather(*(client(url, origin, stats) for url, origin in urls))
    return stats


def chat_urls(user: Any, ports: list[int], count: int) -> list[tuple[str, str]]:
    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.models import ChatSession
    from mozaiks_core.workspace_info import app_id

    organization = user.memberships.first().organization
    sessions = ChatSession.objects.bulk_create([
        ChatSession(user=user, organization=organization, app_id=app_id(), workflow=CHAT_WORKFLOW)
        for _ in range(count)])
    urls = []
    for index, session in enumerate(ChatSession.objects.filter(pk__in=[s.pk for s in sessions]).order_by("pk")):
        port = ports[index % 2]
        urls.append((f"ws://127.0.0.1:{port}{services.websocket_path(session)}?access_token="
                     f"{services.issue_chat_token(session)}", f"http://127.0.0.1:{port}"))
    return urls


def stop_runs() -> None:
    from mozaiks_core.runtime import services
    from mozaiks_core.runtime.models import ChatSession

    for session in ChatSession.objects.filter(status__in=ChatSession.ACTIVE_STATUSES):
        services.cancel_chat(session)
    time.sleep(3)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def hold_idle(urls: list[tuple[str, str]], web_pids: list[int]) -> tuple[float, int]:
    """Open every socket (batches of 100), wait for its first frame, measure the servers' RSS delta.

    A first batch of 100 is opened and closed before measuring, so one-time costs (lazy imports,
    first queries, caches) are not counted per socket.
    """
    warm = await asyncio.gather(*(websockets.connect(url, origin=origin, open_timeout=60)
                                  for url, origin in urls[:100]), return_exceptions=True)
    for ws in warm:
        if not isinstance(ws, BaseException):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.recv(), 30) if "/ws/" in urls[0][0] else None
            await ws.close()
    await asyncio.sleep(2)
    before = sum(rss_kb(pid) for pid in web_pids)
    sockets, failures = [], 0
    for start in range(0, len(urls), 100):
        batch = urls[start:start + 100]
        results = await asyncio.gather(*(websockets.connect(url, origin=origin, open_timeout=60, max_queue=None)
                                         for url, origin in batch), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                failures += 1
            else:
                sockets.append(result)
    if "/ws/" in urls[0][0]:
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.recv(), 30)  # chat_meta: the socket is authorized and subscribed
    await asyncio.sleep(3)
    after = sum(rss_kb(pid) for pid in web_pids)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return (after - before) / max(1, len(sockets)), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", default="50,200")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds before measuring (200 chats need several to start their runs)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.chats.split(",") if size]
    write_chat_workflow(TMP / "workflows", rounds=2000)
    configure(private_postgres(), private_redis())

    import django

    django.setup()
    global websockets
    import websockets
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user = bench_user("load@example.com")
    ports = start_topology(max(sizes, default=args.idle // 10))
    web_pids = PROCESSES.started[2].pid, PROCESSES.started[3].pid
    print(f"topology: 2 uvicorn + 2 Celery run workers (threads), PostgreSQL (private), Redis pub/sub layer "
          f"(private); {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"closed loop, {args.seconds:.0f}s measured after {args.warmup + 2:.0f}s warm-up; clients alternate "
          "between the two processes")
    row = "  N={:<4} {:<16} {:7.0f} ev/s  p50 {:6.1f}  p95 {:6.1f}  p99 {:6.1f} ms  turn p50 {:6.1f} ms  errors {}"
    for count in sizes:
        echo_urls = [(f"ws://127.0.0.1:{ports[i % 2]}/bench/echo/", f"http://127.0.0.1:{ports[i % 2]}")
                     for i in range(count)]
        echo = asyncio.run(drive("echo", echo_urls, args.warmup, args.seconds))
        chat = asyncio.run(drive("chat", chat_urls(user, ports, count), args.warmup, args.seconds))
        stop_runs()
        for name, stats in (("echo (baseline)", echo), ("chat runs", chat)):
            turn = statistics.median(stats.turns) * 1000 if stats.turns else float("nan")
            print(row.format(count, name, *stats.summary(args.seconds), turn, len(stats.errors)))
        e, c = echo.summary(args.seconds), chat.summary(args.seconds)
        print(f"         -> throughput {c[0] / e[0]:.2f}x echo (target >= 0.6), p99 {c[3] / e[3]:.2f}x echo "
              f"(target <= 1.5), chat errors {len(chat.errors)} (target 0)")
        for error in sorted(set(chat.errors + echo.errors))[:5]:
            print(f"         error: {error}")
    if args.idle:
        # Chat sockets first: they pay for any heap growth (the echo sockets then reuse freed memory).
        chat_kb, chat_failed = asyncio.run(hold_idle(chat_urls(user, ports, args.idle), list(web_pids)))
        echo_kb, echo_failed = asyncio.run(hold_idle(
            [(f"ws://127.0.0.1:{ports[i % 2]}/bench/echo/", f"http://127.0.0.1:{ports[i % 2]}")
             for i in range(args.idle)], list(web_pids)))
        print(f"idle sockets: {args.idle} across both processes, server RSS delta per socket:")
        print(f"  echo (baseline) {echo_kb:6.1f} KB  ({echo_failed} failed)")
        print(f"  chat (authorized, subscribed) {chat_kb:6.1f} KB  ({chat_failed} failed)  target <= 100 KB")


if __name__ == "__main__":
    try:
        main()
    finally:
        PROCESSES.stop()
