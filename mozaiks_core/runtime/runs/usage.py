"""THE place LLM usage is recorded: one :class:`UsageRecord` row per call, then the entitlements meter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mozaiks_core.db.fast_sql import insert_many
from mozaiks_core.entitlements.services import LLMCall, TokenBudget, meter_llm_calls_later
from mozaiks_core.runtime.models import UsageRecord
from mozaiks_core.runtime.runs.config import budget_check_seconds
from mozaiks_core.runtime.runs.writer import USAGE_COLUMNS, UsageRow


def record_llm_usage(records: Sequence[UsageRow], *, pipelined: bool = False) -> Callable[[], list[TokenBudget]]:
    """THE place LLM usage is recorded: one :class:`UsageRecord` row per call, then the entitlements meter.

    Called inside the event writer's transaction with every call of a batch at once (the meter
    reads and writes each organization's counter once per batch). Returns a function giving the
    meter's answer per record (an exhausted budget stops the run before its next call), which the
    writer calls after ``COMMIT``: with ``pipelined`` (PostgreSQL pipeline mode) nothing is read
    back before then.
    """
    insert_many(UsageRecord, USAGE_COLUMNS, [record.values() for record in records], skip_conflicts_on="transaction_id")
    return meter_llm_calls_later([
        LLMCall(organization=record.organization, user=record.user, total_tokens=record.total_tokens,
                transaction_id=record.transaction_id, reserved=record.reserved)
        for record in records
    ], entitlements_max_age=budget_check_seconds(), pipelined=pipelined)
