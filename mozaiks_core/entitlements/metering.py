"""Consuming meters: a ledger row per event (unique transaction id) and exact per-period counters.

A hard meter is consumed with one conditional ``UPDATE ... SET used = used + n WHERE used + n
<= limit``: the database serializes writers on the counter row, so under any number of
concurrent callers the counter never passes the limit and never loses an increment.

Usage that is only known afterwards (an LLM call's tokens) is admitted by a *reservation*:
:func:`reserve` adds the call's estimate to the counter's ``reserved`` column with the same kind
of conditional update (``WHERE used + reserved + n <= limit``), and recording the usage later
adds the real amount to ``used`` and releases the estimate, in the same statement. ``used``
stays equal to the ledger; ``used + reserved`` never passes a hard limit at admission.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from mozaiks_core.auth.models import Organization
from mozaiks_core.billing.catalog import MeterSpec
from mozaiks_core.db.fast_sql import (
    add_returning,
    add_within_cap,
    execute,
    insert_returning,
    ledger_and_counter_sql,
)
from mozaiks_core.entitlements.decisions import entitlements_for
from mozaiks_core.entitlements.models import UsageCounter, UsageEvent
from mozaiks_core.entitlements.periods import period_bounds

logger = logging.getLogger(__name__)

MAX_QUANTITY = 10**9
MAX_TRANSACTION_ID = 200
UNMETERED_RESET = "month"
LEDGER_COLUMNS = ("organization_id", "meter", "quantity", "transaction_id", "period_start", "granted", "user_id",
                  "created_at", "reserved")


class UsageError(ValueError):
    """A usage report that cannot be recorded (bad quantity or transaction id); nothing was written."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        self.code, self.message, self.hint = code, message, hint
        super().__init__(f"{message} {hint}")

    def as_dict(self) -> dict[str, str]:
        """The structured error body."""
        return {"error": self.code, "message": self.message, "hint": self.hint}


@dataclass(frozen=True)
class ConsumeResult:
    """The outcome of one consumption; ``duplicate`` means the transaction id was already recorded."""

    granted: bool
    duplicate: bool
    meter: str
    quantity: int
    used: int
    limit: int | None
    soft: bool = False

    @property
    def remaining(self) -> int | None:
        """Units left in the period (None when unlimited)."""
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        """The period's usage reached the limit."""
        return self.limit is not None and self.used >= self.limit


def validate_usage(quantity: Any, transaction_id: Any) -> int:
    """Check a usage report; raises :class:`UsageError` naming the bad input."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise UsageError("INVALID_USAGE_QUANTITY", f"quantity {quantity!r} is not a whole number.",
                         "Report usage as a positive integer.")
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise UsageError("INVALID_USAGE_QUANTITY", f"quantity {quantity} is outside 1..{MAX_QUANTITY}.",
                         "Report each event's positive usage; split larger amounts into several events.")
    if not isinstance(transaction_id, str) or not transaction_id.strip() or len(transaction_id) > MAX_TRANSACTION_ID:
        raise UsageError("INVALID_TRANSACTION_ID", f"transaction_id {transaction_id!r} is empty or too long.",
                         f"Pass a unique id of 1..{MAX_TRANSACTION_ID} characters per usage event.")
    return quantity


def consume(organization: Organization, meter_key: str, quantity: int, transaction_id: str, *,
            enforce: bool = True, user_id: int | None = None) -> ConsumeResult:
    """Consume ``quantity`` of ``meter_key`` once per ``transaction_id``.

    ``enforce=True`` reserves: a hard meter refuses what would pass its limit (nothing is
    counted). ``enforce=False`` records usage that already happened (LLM tokens), past any limit.
    A meter the organization's plan lacks is refused when enforcing and recorded (monthly) otherwise.
    """
    quantity = validate_usage(quantity, transaction_id)
    entitlements = entitlements_for(organization, fresh=True)
    meter = entitlements.meters.get(meter_key)
    if meter is None:
        if enforce:
            return ConsumeResult(False, False, meter_key, quantity, 0, 0)
        meter = MeterSpec(key=meter_key, limit=None, reset=UNMETERED_RESET)
    now = timezone.now()
    period_start, _ = period_bounds(meter.reset, now)
    hard_cap = meter.limit if (enforce and not meter.soft and meter.limit is not None) else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = UsageEvent.objects.create(organization=organization, meter=meter_key, quantity=quantity,
                                                  transaction_id=transaction_id, period_start=period_start,
                                                  user_id=user_id)
        except IntegrityError:
            return _duplicate(organization, transaction_id, meter)
        counter = UsageCounter.objects.filter(organization=organization, meter=meter_key, period_start=period_start)
        granted = _increment(counter, quantity, hard_cap, now)
        if not granted and not counter.exists():
            UsageCounter.objects.bulk_create(
                [UsageCounter(organization=organization, meter=meter_key, period_start=period_start)],
                ignore_conflicts=True,
            )
            granted = _increment(counter, quantity, hard_cap, now)
        if not granted:
            UsageEvent.objects.filter(pk=event.pk).update(granted=False)
        used = counter.values_list("used", flat=True).first() or 0
    if entitlements.counters is not None and meter_key in entitlements.meters:
        entitlements.counters[meter_key] = used
    return ConsumeResult(granted, False, meter_key, quantity, used, meter.limit, meter.soft)


@dataclass(frozen=True)
class Usage:
    """One usage report of a batch: ``quantity`` units once per ``transaction_id``."""

    quantity: int
    transaction_id: str
    user_id: int | None = None
    reserved: int = 0  # what :func:`reserve` held for it, released when it is recorded


@dataclass(frozen=True)
class _LedgerBatch:
    """The ledger rows of a batch (one per transaction id, every quantity validated) and its period."""

    entitlements: Any
    meter: MeterSpec
    rows: list[tuple[Any, ...]]  # in LEDGER_COLUMNS order
    now: Any
    period_start: Any

    @classmethod
    def of(cls, organization: Organization, meter_key: str, usages: list[Usage], entitlements_max_age: float
           ) -> _LedgerBatch:
        entitlements = entitlements_for(organization, max_age=entitlements_max_age)
        meter = entitlements.meters.get(meter_key) or MeterSpec(key=meter_key, limit=None, reset=UNMETERED_RESET)
        for usage in usages:
            validate_usage(usage.quantity, usage.transaction_id)
        now = timezone.now()
        period_start, _ = period_bounds(meter.reset, now)
        rows = [(organization.pk, meter_key, usage.quantity, usage.transaction_id, period_start, True, usage.user_id,
                 now, usage.reserved) for usage in {usage.transaction_id: usage for usage in usages}.values()]
        return cls(entitlements, meter, rows, now, period_start)

    def counter_key(self, organization: Organization) -> dict[str, Any]:
        """The columns that identify the organization's counter row of this meter and period."""
        return {"organization_id": organization.pk, "meter": self.meter.key, "period_start": self.period_start}

    def remember(self, used: int) -> tuple[MeterSpec, int]:
        """Keep the new total on the cached entitlements; the meter and the total."""
        if self.entitlements.counters is not None and self.meter.key in self.entitlements.meters:
            self.entitlements.counters[self.meter.key] = used
        return self.meter, int(used)


def record_many(organization: Organization, meter_key: str, usages: list[Usage], *,
                entitlements_max_age: float = 0.0) -> tuple[MeterSpec, int]:
    """Record usage that already happened (``enforce=False``) for a whole batch, in two queries.

    The group-committed writer of chat events meters every LLM call of a batch at once: one
    ledger insert for all rows (transaction ids already recorded are skipped, so a retry stays
    a no-op) and one counter increment by the sum of the new rows that also returns the new
    total. The organization's entitlements are re-read only when older than
    ``entitlements_max_age`` seconds. Returns the meter and its usage in the current period.
    """
    batch = _LedgerBatch.of(organization, meter_key, usages, entitlements_max_age)
    quantities = {row[3]: row[2] for row in batch.rows}
    reservations = {row[3]: row[8] for row in batch.rows}
    with transaction.atomic(savepoint=False):
        inserted = insert_returning(UsageEvent, LEDGER_COLUMNS, batch.rows, skip_conflicts_on="transaction_id",
                                    returning="transaction_id")
        if len(inserted) < len(batch.rows):
            taken = _foreign_duplicate(organization, set(quantities) - set(inserted))
            if taken is not None:
                raise UsageError("DUPLICATE_TRANSACTION_ID", f"transaction_id {taken!r} was already used by "
                                 "another organization.", "Use ids that are unique across organizations (e.g. "
                                 "prefix them with the chat id).")
        where = batch.counter_key(organization)
        total = sum(quantities[transaction_id] for transaction_id in inserted)
        release = {"reserved": sum(reservations[transaction_id] for transaction_id in inserted)}
        used = add_returning(UsageCounter, "used", total, where, {"updated_at": batch.now}, release)
        if used is None:
            UsageCounter.objects.bulk_create([UsageCounter(**where)], ignore_conflicts=True)
            used = add_returning(UsageCounter, "used", total, where, {"updated_at": batch.now}) or 0
    return batch.remember(used)


def record_many_pipelined(organization: Organization, meter_key: str, usages: list[Usage], *,
                          entitlements_max_age: float = 0.0) -> Callable[[], tuple[MeterSpec, int]]:
    """:func:`record_many` as one statement sent now and answered later (PostgreSQL, inside a transaction).

    The event writer queues it in its pipelined transaction and calls the returned function
    after ``COMMIT``: the batch costs one round trip, and the organization's counter row, which
    every worker's batches for that organization update, is locked for the server's commit only
    (it was locked across two more round trips, while the other workers' batches waited). The
    ledger and the counter still commit together with the events. Transaction ids recorded
    before are skipped, as in :func:`record_many`; one that belongs to *another* organization
    cannot abort a transaction already committed, so it is logged as an error instead of raised.
    """
    batch = _LedgerBatch.of(organization, meter_key, usages, entitlements_max_age)
    sql, params = ledger_and_counter_sql(
        UsageEvent, LEDGER_COLUMNS, batch.rows, skip_conflicts_on="transaction_id", amount="quantity",
        counter=UsageCounter, key=batch.counter_key(organization), total="used", also_set={"updated_at": batch.now},
        release="reserved")
    cursor = execute(sql, params)

    def answer() -> tuple[MeterSpec, int]:
        try:
            used, new_rows = cursor.fetchone()
        finally:
            cursor.close()
        if new_rows < len(batch.rows):
            taken = _foreign_duplicate(organization, {row[3] for row in batch.rows})
            if taken is not None:
                logger.error("usage of organization %s with transaction_id %r was not counted: another "
                             "organization recorded that id first", organization.pk, taken)
        return batch.remember(used)

    return answer


@dataclass(frozen=True)
class Reservation:
    """The answer of :func:`reserve`: admitted or not, what it holds, and the meter's figures after it."""

    granted: bool
    reserved: int  # units held for the call (0 when nothing needs holding: soft or unlimited meter)
    used: int | None = None
    held: int = 0  # reserved by every admitted call in flight, this one included
    limit: int | None = None
    plan_id: str = ""
    reason: str = ""  # when refused: LIMIT_EXCEEDED (would pass the limit) or ENTITLEMENT_REQUIRED (no meter)

    @property
    def remaining(self) -> int | None:
        """Units neither used nor held (None when unlimited)."""
        return None if self.limit is None else max(self.limit - (self.used or 0) - self.held, 0)


def reserve(organization: Organization, meter_key: str, quantity: int, *,
            entitlements_max_age: float = 0.0) -> Reservation:
    """Hold ``quantity`` of a hard meter for a use whose real amount is known only afterwards.

    Refused (nothing held) when ``used + reserved + quantity`` would pass the limit. A soft or
    unlimited meter holds nothing and always admits; a meter the plan lacks while another plan
    declares it is refused (fail closed); a meter no plan declares is not metered. The holding is
    released by recording the usage with ``Usage(reserved=...)``, or by :func:`release`.
    """
    entitlements = entitlements_for(organization, max_age=entitlements_max_age)
    meter = entitlements.meters.get(meter_key)
    plan_id = entitlements.plan_id
    if meter is None:
        if meter_key in entitlements.key_kinds:
            return Reservation(False, 0, limit=0, plan_id=plan_id, reason="ENTITLEMENT_REQUIRED")
        return Reservation(True, 0, plan_id=plan_id)
    if meter.soft or meter.limit is None:
        return Reservation(True, 0, limit=meter.limit, plan_id=plan_id)
    quantity = max(int(quantity), 1)
    period_start, _ = period_bounds(meter.reset, timezone.now())
    where = {"organization_id": organization.pk, "meter": meter_key, "period_start": period_start}
    figures = _hold(where, quantity, meter.limit)
    if figures is None and not UsageCounter.objects.filter(**where).exists():
        UsageCounter.objects.bulk_create([UsageCounter(**where)], ignore_conflicts=True)
        figures = _hold(where, quantity, meter.limit)
    if figures is None:
        used, held = UsageCounter.objects.filter(**where).values_list("used", "reserved").first() or (0, 0)
        return Reservation(False, 0, used=used, held=held, limit=meter.limit, plan_id=plan_id, reason="LIMIT_EXCEEDED")
    return Reservation(True, quantity, used=figures[0], held=figures[1], limit=meter.limit, plan_id=plan_id)


def _hold(where: dict[str, Any], quantity: int, limit: int) -> tuple[int, ...] | None:
    return add_within_cap(UsageCounter, "reserved", quantity, where, cap_columns=("used", "reserved"), cap=limit,
                          also_set={"updated_at": timezone.now()})


def release(organization: Organization, meter_key: str, quantity: int) -> None:
    """Give back a holding whose use never happened (the call failed or the run stopped before it)."""
    if quantity <= 0:
        return
    entitlements = entitlements_for(organization)
    meter = entitlements.meters.get(meter_key)
    if meter is None:
        return
    period_start, _ = period_bounds(meter.reset, timezone.now())
    where = {"organization_id": organization.pk, "meter": meter_key, "period_start": period_start}
    add_returning(UsageCounter, "used", 0, where, {"updated_at": timezone.now()}, {"reserved": quantity})


def _foreign_duplicate(organization: Organization, transaction_ids: set[str]) -> str | None:
    """One of ``transaction_ids`` that another organization recorded (a skipped id must be a retry
    of this organization's own report), or ``None``."""
    foreign = UsageEvent.objects.filter(transaction_id__in=transaction_ids).exclude(organization=organization)
    return foreign.values_list("transaction_id", flat=True).first()


def _increment(counter: Any, quantity: int, hard_cap: int | None, now: Any) -> bool:
    if hard_cap is not None:
        counter = counter.filter(used__lte=hard_cap - quantity)
    return counter.update(used=F("used") + quantity, updated_at=now) == 1


def _duplicate(organization: Organization, transaction_id: str, meter: MeterSpec) -> ConsumeResult:
    event = UsageEvent.objects.filter(transaction_id=transaction_id).first()
    if event is None or event.organization_id != organization.pk:
        raise UsageError("DUPLICATE_TRANSACTION_ID",
                         f"transaction_id {transaction_id!r} was already used by another organization.",
                         "Use ids that are unique across organizations (e.g. prefix them with the chat id).")
    used = (UsageCounter.objects.filter(organization=organization, meter=event.meter,
                                        period_start=event.period_start).values_list("used", flat=True).first() or 0)
    return ConsumeResult(event.granted, True, event.meter, event.quantity, used, meter.limit, meter.soft)
