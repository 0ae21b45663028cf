"""Group-committed event writes: durable first, delivered second.

Runs hand their events to the :class:`EventWriter` of their event loop and carry on without
waiting. The writer drains everything queued (from every chat of the process), commits it in one
transaction (``bulk_create``), and only then publishes the frames to each chat's channel-layer
group. No socket ever sees an event a resume could not replay, and a busy process pays one commit
per batch instead of one per event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.layers import get_channel_layer
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from mozaiks_core.db.async_db import LockBusy, call_on_loop, writes_on_loop
from mozaiks_core.db.fast_sql import Guard, insert_many, update_many_by_pk
from mozaiks_core.observability import metrics, tracing
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest
from mozaiks_core.runtime.protocol.groups import chat_group
from mozaiks_core.runtime.protocol.layers import LocalChannelLayer, group_send_many

logger = logging.getLogger(__name__)

MAX_BATCH = 500
IDLE_CLOSE_SECONDS = 2.0


@dataclass(slots=True)
class EventRow:
    """A :class:`ChatEvent` row to insert (plain data: building model instances cost more than the insert)."""

    chat_pk: int
    seq: int
    type: str
    payload: str  # JSON text
    event_id: str
    causation_id: str
    run_id: str
    created_at: datetime

    def values(self) -> tuple[Any, ...]:
        """The row in :data:`EVENT_COLUMNS` order."""
        return (self.chat_pk, self.seq, self.type, self.payload, self.event_id, self.causation_id, self.run_id,
                self.created_at)


@dataclass(slots=True)
class UsageRow:
    """A :class:`UsageRecord` row: the tokens of one LLM call, attributed to chat, user and organization."""

    chat_pk: int
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    workflow: str
    user: Any
    organization: Any
    transaction_id: str
    created_at: datetime
    reserved: int = 0  # tokens admission reserved for the call (settled when the row is metered)
    plan_id: str = ""  # the organization's plan when the call ran
    cost: Any = 0  # Decimal: what the call cost (the workspace's price table)
    currency: str = "usd"

    def values(self) -> tuple[Any, ...]:
        """The row in :data:`USAGE_COLUMNS` order."""
        return (self.chat_pk, self.agent, self.model, self.prompt_tokens, self.completion_tokens, self.total_tokens,
                self.workflow, self.user.pk, self.organization.pk, self.transaction_id, self.created_at,
                self.reserved, self.plan_id, self.cost, self.currency)


@dataclass(slots=True)
class PendingRow:
    """A :class:`PendingRequest` row to insert: an input request or UI tool waiting for its answer.

    Plain data: a model instance cost more to build than its row costs to insert.
    """

    chat_id: int  # the chat's primary key
    request_id: str
    kind: str
    seq: int  # of the event that asks; set when that event is numbered
    frame: dict[str, Any]


EVENT_COLUMNS = ("chat_id", "seq", "type", "payload", "event_id", "causation_id", "run_id", "created_at")
PENDING_COLUMNS = ("chat_id", "request_id", "kind", "seq", "frame", "closed", "created_at")
USAGE_COLUMNS = ("chat_id", "agent", "model", "prompt_tokens", "completion_tokens", "total_tokens", "workflow",
                 "user_id", "organization_id", "transaction_id", "created_at", "reserved_tokens", "plan_id", "cost",
                 "currency")


@dataclass(slots=True)
class WriteEntry:
    """One unit of work for the writer; any field may be empty (a flush marker has none)."""

    chat_pk: int
    chat_id: str
    event: EventRow | None = None
    frame: str | None = None  # the socket frame to publish after commit
    transient: bool = False  # publish only (chat.print): nothing is written
    usage: UsageRow | None = None
    pending: PendingRow | None = None
    session_update: dict[str, Any] = field(default_factory=dict)
    heartbeat: bool = False  # the run proves it is alive (so does any status change)
    done: asyncio.Future[None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_metered: Callable[[Any], None] | None = None  # gets the meter's TokenBudget for ``usage``
    claim: str | None = None  # the writing run's claim: its writes commit only while the chat holds it
    emitted_at: float = 0.0  # wall clock when a frame was submitted (the delivery latency metric)
    trace: Any = None  # the writing run's trace context (traces on): its publish span's parent


class EventWriter:
    """Per-event-loop writer: batches and commits in one task, publishes committed batches in another."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[WriteEntry] = asyncio.Queue()
        # Committed batches wait here for the publisher, so publishing one batch overlaps the
        # next batch's commit; batches are still published in commit order.
        self.committed: asyncio.Queue[tuple[list[WriteEntry], dict[int, BaseException]]] = asyncio.Queue()
        # An in-process layer publishes without waiting for anything: the writer publishes each batch
        # itself, a turn of the event loop sooner than the publisher task would.
        self.publishes_in_place = isinstance(get_channel_layer(), LocalChannelLayer)
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self._run(), name="mozaiks-event-writer")
        self.publisher = loop.create_task(self._publish_committed(), name="mozaiks-event-publisher")

    def alive(self) -> bool:
        """Both tasks still running (a writer whose loop was stopped is replaced)."""
        return not (self.task.done() or self.publisher.done())

    def submit(self, entry: WriteEntry) -> None:
        """Queue an entry without waiting for it."""
        if entry.frame is not None:
            entry.emitted_at = metrics.now()
        self.queue.put_nowait(entry)

    async def _run(self) -> None:
        while True:
            try:
                first = await asyncio.wait_for(self.queue.get(), IDLE_CLOSE_SECONDS)
            except TimeoutError:
                await _close_db_connection()  # idle: give the connection back, as CONN_MAX_AGE would
                first = await self.queue.get()
            batch = [first]
            while not self.queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self.queue.get_nowait())
            failed = await self._commit_isolating_failures(batch)
            if self.publishes_in_place:
                await self._deliver(batch, failed)
            else:
                self.committed.put_nowait((batch, failed))

    async def _publish_committed(self) -> None:
        while True:
            batch, failed = await self.committed.get()
            await self._deliver(batch, failed)

    async def _deliver(self, batch: list[WriteEntry], failed: dict[int, BaseException]) -> None:
        """Publish a committed batch (but the chats whose write failed) and settle its futures."""
        await self._publish([entry for entry in batch if entry.chat_pk not in failed])
        for entry in batch:
            if entry.done is not None and not entry.done.done():
                error = failed.get(entry.chat_pk)
                if error is None:
                    entry.done.set_result(None)
                else:
                    entry.done.set_exception(error)

    async def _commit_isolating_failures(self, batch: list[WriteEntry]) -> dict[int, BaseException]:
        """Commit the batch; if it fails, retry chat by chat so one bad chat cannot sink the others."""
        writes = [entry for entry in batch if not entry.transient and _has_write(entry)]
        if not writes:
            return {}
        try:
            await _in_db_thread(writes)
            return {}
        except Exception:
            logger.exception("batched event write failed; retrying chat by chat")
        failed: dict[int, BaseException] = {}
        by_chat: dict[int, list[WriteEntry]] = defaultdict(list)
        for entry in writes:
            by_chat[entry.chat_pk].append(entry)
        for chat_pk, entries in by_chat.items():
            try:
                await _in_db_thread(entries)
            except Exception as error:
                logger.exception("event write failed for chat pk=%s", chat_pk)
                failed[chat_pk] = error
                for entry in entries:
                    if entry.on_error is not None:
                        entry.on_error(error)
        return failed

    async def _publish(self, batch: list[WriteEntry]) -> None:
        """One channel-layer message per chat per batch, frames in commit order."""
        frames: dict[str, list[list[Any]]] = defaultdict(list)
        emitted: dict[str, float] = {}  # each chat's first frame of the batch: its emit time
        for entry in batch:
            if entry.frame is None:
                continue
            seq = entry.event.seq if entry.event is not None else None
            frames[entry.chat_id].append([seq, entry.frame])
            emitted.setdefault(entry.chat_id, entry.emitted_at)
        if not frames:
            return
        layer = get_channel_layer()
        chats = list(frames)
        spans = _publish_spans(batch, frames) if tracing.enabled() else ()
        outcomes = await group_send_many(layer, [
            (chat_group(chat_id), {"type": "chat.frames", "frames": frames[chat_id], "emitted_at": emitted[chat_id]})
            for chat_id in chats])
        for span in spans:
            span.end()
        for chat_id, error in zip(chats, outcomes, strict=True):
            if error is not None:
                # Events are durable; a socket that misses them fills the gap from the database.
                logger.error("publishing %d frames of chat %s failed: %s", len(frames[chat_id]), chat_id, error)


def _publish_spans(batch: list[WriteEntry], frames: dict[str, list[list[Any]]]) -> list[Any]:
    """One started span per chat of the batch, a child of the span of the run that wrote its first frame."""
    parents: dict[str, Any] = {}
    for entry in batch:
        if entry.frame is not None and entry.trace is not None:
            parents.setdefault(entry.chat_id, entry.trace)
    spans = []
    for chat_id, parent in parents.items():
        seqs = [seq for seq, _ in frames[chat_id] if seq is not None]
        spans.append(tracing.start_publish_span(parent, chat_id, len(frames[chat_id]), seqs[-1] if seqs else None))
    return spans


class ClaimLost(IntegrityError):
    """A run wrote to a chat it no longer holds: reaped as interrupted while it was stalled, and the
    chat started again (or reaped only). Its writes are refused, events included."""

    def __init__(self, chat_pks: list[int]) -> None:
        super().__init__(f"chat pk={', '.join(map(str, chat_pks))}: this run no longer holds the chat (it was "
                         "marked interrupted and may have been started again); its writes are refused")


def _commit_keeping_connection(entries: list[WriteEntry]) -> None:
    try:
        _commit(entries)
    except Exception:
        connection.close()  # a broken connection is reopened by the next batch
        raise


# The writer's own thread, so its own database connection: on the process's shared database thread
# a commit queued behind every consumer's answer and run's query of the moment (a closed loop of 50
# chats: up to 130 ms), and the whole batch's delivery with it. No close_old_connections() around
# every call either: with CONN_MAX_AGE=0 that reconnected per batch.
_WRITER_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mozaiks-event-writer")


async def _in_db_thread(entries: list[WriteEntry]) -> None:
    """Commit ``entries``: on SQLite on the loop's own thread (``async_db.call_on_loop``), unless another
    connection holds the write lock; otherwise, and on every other database, on the writer's thread."""
    if writes_on_loop():
        try:
            call_on_loop(_commit, entries)
            return
        except LockBusy:
            pass  # another connection is writing: this batch waits for the lock on the writer's thread
    await asyncio.get_running_loop().run_in_executor(_WRITER_THREAD, _commit_keeping_connection, entries)


async def _close_db_connection() -> None:
    await asyncio.get_running_loop().run_in_executor(_WRITER_THREAD, close_old_connections)


def _has_write(entry: WriteEntry) -> bool:
    return bool(entry.event or entry.usage or entry.pending or entry.session_update or entry.heartbeat)


def _commit(entries: list[WriteEntry]) -> None:
    events = [entry.event for entry in entries if entry.event is not None]
    pending = [entry.pending for entry in entries if entry.pending is not None]
    usage = [entry.usage for entry in entries if entry.usage is not None]
    updates: dict[int, dict[str, Any]] = {}
    claims: dict[int, str] = {}
    now = timezone.now()
    for entry in entries:
        if entry.claim is not None:
            claims[entry.chat_pk] = entry.claim
        update = updates.setdefault(entry.chat_pk, {"updated_at": now})
        update.update(entry.session_update)
        if entry.heartbeat or "status" in entry.session_update:
            update["heartbeat_at"] = now
        if entry.event is not None:  # activity is an event; a heartbeat alone moves updated_at only
            update["last_seq"] = max(update.get("last_seq", -1), entry.event.seq)
            update["last_activity_at"] = now
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            budgets = _write_in_one_round_trip(events, pending, updates, claims, usage, now)
        else:
            with transaction.atomic():
                budgets = _write(events, pending, updates, claims, usage, now, pipelined=False)
    except Exception as error:
        if claims and _guard_tripped(error):
            raise ClaimLost(sorted(claims)) from error
        raise
    if budgets is not None:
        for entry, budget in zip([e for e in entries if e.usage is not None], budgets(), strict=True):
            if entry.on_metered is not None:
                entry.on_metered(budget)


def _guard_tripped(error: Exception) -> bool:
    """The claim guard of :func:`_write` refused the batch: ``updated_at`` set to NULL (Django's
    ``IntegrityError``, or psycopg's not-null violation where a pipeline raises it unwrapped)."""
    not_null = isinstance(error, IntegrityError) or getattr(error, "sqlstate", None) == "23502"
    return not_null and "updated_at" in str(error)


def _write(events: list[EventRow], pending: list[PendingRow], updates: dict[int, dict[str, Any]],
           claims: dict[int, str], usage: list[UsageRow], now: datetime, *, pipelined: bool
           ) -> Callable[[], list[Any]] | None:
    """The batch's statements; the meter's budgets come from the returned function (after the commit).

    Every chat of the batch has its row updated, guarded by its run's claim: a run that lost the
    chat (reaped while it was stalled, and the chat started again) makes the batch fail, and the
    retry chat by chat refuses that run's writes alone, events included.

    The organization's usage counter is the one row every run of an organization updates: the
    meter goes last, and on PostgreSQL it is one statement read only after ``COMMIT``, so the row
    is locked for the server's commit only.
    """
    from mozaiks_core.runtime.runs.usage import record_llm_usage

    if events:
        _insert_events(events)
    if pending:
        insert_many(PendingRequest, PENDING_COLUMNS, [
            (row.chat_id, row.request_id, row.kind, row.seq, row.frame, False, now) for row in pending])
    update_many_by_pk(ChatSession, updates, guard=Guard("run_claim", claims, tripped="updated_at"))
    return record_llm_usage(usage, pipelined=pipelined) if usage else None


def _write_in_one_round_trip(events: list[EventRow], pending: list[PendingRow],
                             updates: dict[int, dict[str, Any]], claims: dict[int, str], usage: list[UsageRow],
                             now: datetime) -> Callable[[], list[Any]] | None:
    """PostgreSQL: ``BEGIN``, the statements and ``COMMIT`` in one psycopg pipeline, one round trip.

    Django's ``atomic()`` costs two more: psycopg synchronises after the implicit ``BEGIN`` of a
    pipelined transaction, and again when the pipeline closes after the ``COMMIT``. Here the
    connection stays in autocommit mode and the transaction is explicit. Nothing in the batch
    uses ``on_commit`` (the meter hands its provider reports to the returned function, which the
    caller runs after the commit). A failure anywhere aborts the rest of the pipeline, ``COMMIT``
    included, and raises; the caller closes the connection, which rolls the transaction back.
    """
    connection.ensure_connection()
    raw = connection.connection
    with raw.pipeline():
        raw.execute("BEGIN")
        budgets = _write(events, pending, updates, claims, usage, now, pipelined=True)
        raw.execute("COMMIT")
    return budgets


def _insert_events(events: list[EventRow]) -> None:
    """``executemany`` INSERT of the events: the hot path, several times cheaper than ``bulk_create``."""
    insert_many(ChatEvent, EVENT_COLUMNS, [event.values() for event in events])


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventWriter] = weakref.WeakKeyDictionary()


def get_writer() -> EventWriter:
    """The writer of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None or not writer.alive():
        writer = EventWriter()
        _writers[loop] = writer
    return writer
