"""Pipelined metering (PostgreSQL): the event writer's batch sends its meter statement with the
events and its COMMIT, and reads the budgets after COMMIT.

Same rules as :func:`meter_llm_calls` (idempotent transaction ids, usage past a limit still
recorded, budgets after the batch), in one statement per organization that nothing has to wait
for inside the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mozaiks_core.entitlements.models import UsageCounter, UsageEvent
from mozaiks_core.entitlements.services import LLMCall, meter_llm_calls, meter_llm_calls_later
from tests.billing.support import make_member
from tests.support.threads import race

pytestmark = [pytest.mark.usefixtures("plans"), pytest.mark.postgres]


def calls(org: Any, user: Any, count: int, tokens: int = 100, prefix: str = "chat-1") -> list[LLMCall]:
    return [LLMCall(org, user, tokens, f"llm:{prefix}:{index}") for index in range(count)]


def in_pipelined_transaction(batch: list[LLMCall]) -> Callable[[], list[Any]]:
    """As the event writer does: pipeline, transaction, meter; the answer is read by the caller."""
    connection.ensure_connection()
    with connection.connection.pipeline(), transaction.atomic():
        return meter_llm_calls_later(batch, pipelined=True)


def test_a_batch_is_counted_once_and_answered_after_commit(postgres_db, transactional_db) -> None:
    user, org = make_member("pipelined@example.com")
    budgets = in_pipelined_transaction(calls(org, user, 5))()
    assert [budget.remaining for budget in budgets] == [500] * 5  # free plan: 1,000 tokens
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 500  # created at first use
    assert UsageEvent.objects.filter(organization=org).count() == 5
    budgets = in_pipelined_transaction(calls(org, user, 2, tokens=300, prefix="chat-2"))()
    assert [budget.remaining for budget in budgets] == [0, 0]
    assert [budget.exhausted for budget in budgets] == [True, True]  # past the hard limit: recorded, reported
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 1100


def test_the_meter_is_one_statement_per_organization_whatever_the_batch_size(postgres_db, transactional_db) -> None:
    user, org = make_member("one-statement@example.com")
    meter_llm_calls(calls(org, user, 1, prefix="warm"), entitlements_max_age=60)
    with CaptureQueriesContext(connection) as queries:
        in_pipelined_transaction(calls(org, user, 40, tokens=1, prefix="big"))()
    metering = [query["sql"] for query in queries if "usage" in query["sql"].lower()]
    assert len(metering) == 1, metering
    assert metering[0].startswith("WITH new_rows AS (INSERT INTO")


def test_a_retried_batch_counts_nothing_twice(postgres_db, transactional_db) -> None:
    user, org = make_member("retry-pipelined@example.com")
    in_pipelined_transaction(calls(org, user, 3))()
    budgets = in_pipelined_transaction([*calls(org, user, 3), *calls(org, user, 1, prefix="new")])()
    assert budgets[-1].remaining == 1000 - 400
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 400


def test_another_organizations_transaction_id_is_not_counted_and_is_logged(
    postgres_db, transactional_db, caplog: pytest.LogCaptureFixture
) -> None:
    user_a, org_a = make_member("owner-a@example.com")
    user_b, org_b = make_member("owner-b@example.com")
    meter_llm_calls(calls(org_a, user_a, 1, prefix="shared"))
    with caplog.at_level(logging.ERROR, logger="mozaiks_core.entitlements.metering"):
        in_pipelined_transaction([*calls(org_b, user_b, 1, prefix="shared"), *calls(org_b, user_b, 1, prefix="own")])()
    assert UsageCounter.objects.get(organization=org_b, meter="tokens_monthly").used == 100  # only its own call
    assert UsageCounter.objects.get(organization=org_a, meter="tokens_monthly").used == 100  # not charged either
    assert "llm:shared:0" in caplog.text
    assert "another organization" in caplog.text


def test_a_failed_batch_counts_nothing(postgres_db, transactional_db) -> None:
    user, org = make_member("failed-pipelined@example.com")

    def failing_batch() -> None:
        connection.ensure_connection()
        with connection.connection.pipeline(), transaction.atomic():
            meter_llm_calls_later(calls(org, user, 2), pipelined=True)
            raise RuntimeError("the event insert failed")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert not UsageEvent.objects.filter(organization=org).exists()
    assert not UsageCounter.objects.filter(organization=org, used__gt=0).exists()


def test_concurrent_pipelined_batches_count_exactly(postgres_db, transactional_db) -> None:
    user, org = make_member("race-pipelined@example.com")
    def writer(index: int) -> None:
        for batch in range(25):
            in_pipelined_transaction(calls(org, user, 4, tokens=3, prefix=f"w{index}-b{batch}"))()

    race(4, writer)
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 4 * 25 * 4 * 3
    assert UsageEvent.objects.filter(organization=org).count() == 400


def test_usage_is_reported_to_the_billing_provider_after_the_commit_and_never_for_a_failed_batch(
    postgres_db, transactional_db, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mozaiks_core.billing import tasks
    from mozaiks_core.billing.models import Plan
    from mozaiks_core.billing.services import change_plan

    settings.MOZAIKS_BILLING_PROVIDER = "stripe"
    user, org = make_member("reported@example.com")
    change_plan(org, Plan.objects.get(plan_id="pro"))  # its tokens meter reports "mozaiks_tokens"
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.report_usage, "delay", lambda *args: sent.append(args))
    answer = in_pipelined_transaction(calls(org, user, 2))
    assert sent == []  # committed, but nothing is reported until the writer reads the answer
    answer()
    assert sent == [(org.pk, "mozaiks_tokens", 100, "llm:chat-1:0"), (org.pk, "mozaiks_tokens", 100, "llm:chat-1:1")]

    def failing_batch() -> None:
        connection.ensure_connection()
        with connection.connection.pipeline(), transaction.atomic():
            meter_llm_calls_later(calls(org, user, 1, prefix="lost"), pipelined=True)
            raise RuntimeError("the event insert failed")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert len(sent) == 2
