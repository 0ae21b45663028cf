"""Event writer commit beside a busy event loop: ``python benchmarks/writer.py``.

The event writer commits on its own thread while the event loop keeps the GIL busy. Every C call
of the commit that gives up the GIL (a SQLite step, a prepare, the commit itself) then waits to get
it back, up to a switch interval each. This measures the writer's commit (``writer._commit``)
of batches of chat events for 50 chats, on that thread, while the main thread spins like a
saturated loop, with the statements the writer uses (multi-row ``INSERT`` and
``UPDATE ... FROM (VALUES ...)``) against the baseline of the ``executemany`` it used before
(one step per row). On a throwaway SQLite database: PostgreSQL batches were already multi-row
statements in one pipelined round trip.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
TMP = Path(tempfile.mkdtemp(prefix="mozaiks-writer-bench-"))
from benchmarks.harness import benchmark_environment  # noqa: E402

os.environ.update(benchmark_environment(TMP))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.harness import bench_user  # noqa: E402
from mozaiks_core.db import fast_sql  # noqa: E402
from mozaiks_core.runtime.models import ChatSession, new_event_id  # noqa: E402
from mozaiks_core.runtime.runs import writer  # noqa: E402
from mozaiks_core.runtime.runs.process_tuning import tune_thread_switching  # noqa: E402
from mozaiks_core.runtime.runs.writer import EventRow, WriteEntry, _commit  # noqa: E402
from mozaiks_core.workspace_info import app_id  # noqa: E402

CHATS = 50
COMMITS = 40


def chats() -> list[ChatSession]:
    user = bench_user("writer-bench@example.com")
    organization = user.memberships.first().organization
    return [ChatSession.objects.create(user=user, organization=organization, app_id=app_id(), workflow="Bench",
                                       status=ChatSession.Status.RUNNING) for _ in range(CHATS)]


def batch(sessions: list[ChatSession], seqs: dict[int, int], size: int) -> list[WriteEntry]:
    entries = []
    for index in range(size):
        session = sessions[index % len(sessions)]
        seqs[session.pk] += 1
        event = EventRow(session.pk, seqs[session.pk], "chat.text", '{"content": "answer"}', new_event_id(), "",
                         "bench", timezone.now())
        entries.append(WriteEntry(session.pk, session.chat_id, event=event, frame="{}"))
    return entries


def commits_beside_a_busy_loop(sessions: list[ChatSession], seqs: dict[int, int], size: int) -> list[float]:
    """Milliseconds per commit of ``size`` events on a thread while this thread spins."""
    durations: list[float] = []
    finished = threading.Event()

    def writer() -> None:
        try:
            for _ in range(COMMITS):
                entries = batch(sessions, seqs, size)
                started = time.perf_counter()
                _commit(entries)
                durations.append((time.perf_counter() - started) * 1000)
                time.sleep(0.002)
        finally:
            connection.close()
            finished.set()

    thread = threading.Thread(target=writer, name="bench-writer")
    thread.start()
    spins = 0
    while not finished.is_set():
        spins += 1  # the busy event loop
    thread.join()
    return durations


def executemany_insert(model: Any, columns: Any, rows: Any, *, skip_conflicts_on: str | None = None) -> None:
    """The baseline: the writer's INSERT as it was, one ``executemany`` step per row."""
    width = len(columns)
    values = fast_sql._adapted(value for row in rows for value in row)
    with connection.cursor() as cursor:
        cursor.executemany(fast_sql._insert_sql(model, columns, 1, skip_conflicts_on),
                           [values[start:start + width] for start in range(0, len(values), width)])


def executemany_update(model: Any, updates: dict[Any, dict[str, Any]], *, guard: Any = None) -> None:
    """The baseline: the writer's chat UPDATE as it was, one ``executemany`` per set of fields.

    The run-claim ``guard`` is left out: the baseline does less work, so the ratio can only understate.
    """
    groups: dict[tuple[str, ...], tuple[list[dict[str, Any]], list[Any]]] = {}
    for pk in sorted(updates):
        members, pks = groups.setdefault(tuple(updates[pk]), ([], []))
        members.append(updates[pk])
        pks.append(pk)
    with connection.cursor() as cursor:
        for names, (members, pks) in groups.items():
            rows = [[*params, pk] for params, pk in zip(fast_sql._set_rows(model, names, members), pks, strict=True)]
            cursor.executemany(fast_sql._update_sql(model, names, fast_sql._pk_condition(model)), rows)


def main() -> None:
    call_command("migrate", verbosity=0)
    tune_thread_switching()
    sessions = chats()
    seqs = dict.fromkeys((session.pk for session in sessions), 0)
    print(f"database: {connection.vendor}; GIL switch interval {sys.getswitchinterval() * 1000:.2f} ms; "
          f"{COMMITS} commits per figure, p50 / p90 ms")
    for size in (12, 300):
        ours = commits_beside_a_busy_loop(sessions, seqs, size)
        shipped = writer.insert_many, writer.update_many_by_pk
        writer.insert_many, writer.update_many_by_pk = executemany_insert, executemany_update
        try:
            per_row = commits_beside_a_busy_loop(sessions, seqs, size)
        finally:
            writer.insert_many, writer.update_many_by_pk = shipped
        ratio = statistics.median(per_row) / statistics.median(ours)
        print(f"  {size:4d} events: executemany (baseline) {figures(per_row)}   "
              f"multi-row (MozaiksCore) {figures(ours)}   -> {ratio:.1f}x faster")


def figures(durations: list[Any]) -> str:
    ordered = sorted(durations)
    return f"{ordered[len(ordered) // 2]:6.2f} / {ordered[int(len(ordered) * 0.9)]:6.2f}"


if __name__ == "__main__":
    main()
