"""SQLite WAL checkpoints on a thread of their own instead of inside the event loop's commits.

In WAL mode the connection whose commit grows the log past ``wal_autocheckpoint`` pages (1,000 by
default) copies the log back into the database file inside that commit. With writes on the event
loop's thread (:func:`mozaiks_core.db.async_db.call_on_loop`) that was the loop: at fifty busy chats
one commit in twenty took 9-12 ms instead of 1.3 (the copy costs ~8 µs a page and a commit adds
~40), and every socket of the process waited for it.

After each write on the loop, :data:`checkpointer` is asked for a ``PASSIVE`` checkpoint, which its
thread runs on its own connection at most every :data:`CHECKPOINT_INTERVAL` seconds: it waits for
no lock, blocks no writer, and SQLite releases the GIL while it copies. A checkpoint that a commit
overtook is repeated at once (it then copies only that commit's pages), up to :data:`ATTEMPTS`
times. Copying is not enough to keep the log short: SQLite starts it over at a commit after a
checkpoint that left nothing to copy, and measured under load, the loop's commits did not after
the thread's checkpoints (the log grew to the automatic checkpoint's 1,000 pages every time), but
did after a checkpoint of their own connection. So once the thread has copied a log of
:data:`START_OVER_PAGES` or more, the loop's next write first runs a checkpoint of its own: that
write starts the log over.

That checkpoint is not free. It copies what the loop committed while the thread was copying
(measured at fifty chats: 40-100 pages, and two ``fsync`` calls), so it held the loop for 2.1 ms
(p50; p90 3.5 ms, up to 12 ms). With a threshold of 200 pages it ran every 70 ms: 3 % of the
loop's time, and stalls that every socket of the process waited for. The log now starts over
once it holds :data:`START_OVER_PAGES` (8 MB of 4 KB pages), ten times less often. The loop's
connection gets :data:`LOOP_AUTOCHECKPOINT_PAGES` as its automatic checkpoint
(:func:`prepare_loop_connection`): the backstop should the thread fall behind, beyond the
threshold (with the default 1,000, the loop's commit that passed 1,000 pages copied the log itself).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.05
ATTEMPTS = 4
START_OVER_PAGES = 2_000
LOOP_AUTOCHECKPOINT_PAGES = 2 * START_OVER_PAGES


class Checkpointer:
    """One daemon thread per process that checkpoints the default SQLite database when asked."""

    def __init__(self, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.interval = interval
        self.wanted = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.completed = 0  # checkpoints run (for tests and diagnostics)
        self.caught_up = False  # the thread copied a long log entirely: the loop's next write starts it over

    def request(self) -> None:
        """Ask for a checkpoint soon; cheap enough to call after every commit."""
        self.wanted.set()
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self._serve, name="mozaiks-wal-checkpoints", daemon=True)
                    self.thread.start()

    def start_log_over(self, raw_connection: Any) -> None:
        """On the writing connection, before its write: let that write start the log over if the
        thread caught up (a checkpoint with nothing left to copy)."""
        if self.caught_up:
            self.caught_up = False
            raw_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _serve(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            try:
                self.run_once()
            except Exception:  # retried at the next request; meanwhile the loop's commits checkpoint
                logger.exception("WAL checkpoint failed")
                connections[DEFAULT_DB_ALIAS].close()
            time.sleep(self.interval)

    def run_once(self) -> tuple[int, int]:
        """Checkpoint until the log is copied entirely (or :data:`ATTEMPTS`): (log pages, pages copied)."""
        log_pages = copied = 0
        for _ in range(ATTEMPTS):
            log_pages, copied = passive_checkpoint()
            self.completed += 1
            if copied >= log_pages:
                self.caught_up = log_pages >= START_OVER_PAGES
                break
        return log_pages, copied


def prepare_loop_connection(raw_connection: Any) -> None:
    """Once per connection that writes on the loop: its automatic checkpoint at
    :data:`LOOP_AUTOCHECKPOINT_PAGES`, beyond :data:`START_OVER_PAGES`."""
    raw_connection.execute(f"PRAGMA wal_autocheckpoint = {LOOP_AUTOCHECKPOINT_PAGES:d}").fetchall()


def passive_checkpoint() -> tuple[int, int]:
    """``PRAGMA wal_checkpoint(PASSIVE)`` on this thread's connection: (pages in the log, pages copied)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _, log_pages, copied = cursor.fetchone()
    return log_pages, copied


checkpointer = Checkpointer()
