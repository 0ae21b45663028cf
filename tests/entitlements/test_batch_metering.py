"""Batch metering of LLM calls: what the runtime's event writer uses for every committed batch.

Same rules as one call at a time (idempotent transaction ids, usage past a hard limit is still
recorded, the budget reported after it), in a fixed number of queries per organization.
Runs on SQLite and PostgreSQL: the batch path is plain SQL (``INSERT ... ON CONFLICT ...
RETURNING``, ``UPDATE ... RETURNING``).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mozaiks_core.entitlements.models import UsageCounter, UsageEvent
from mozaiks_core.entitlements.services import LLMCall, UsageError, meter_llm_calls, meter_llm_tokens
from tests.billing.support import make_member
from tests.support.threads import race

pytestmark = [pytest.mark.usefixtures("plans"), pytest.mark.dbmatrix]


def calls(org, user, count: int, tokens: int = 100, prefix: str = "chat-1") -> list[LLMCall]:
    return [LLMCall(org, user, tokens, f"llm:{prefix}:{index}") for index in range(count)]


def test_a_batch_records_every_call_in_the_ledger_and_counts_the_sum_once(db) -> None:
    user, org = make_member("batch@example.com")
    budgets = meter_llm_calls(calls(org, user, 5))
    assert [budget.remaining for budget in budgets] == [500] * 5  # free plan: 1,000 tokens
    assert UsageEvent.objects.filter(organization=org, meter="tokens_monthly").count() == 5
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 500


def test_a_batch_costs_the_same_few_queries_for_one_call_or_fifty(db) -> None:
    user, org = make_member("queries@example.com")
    meter_llm_calls(calls(org, user, 1, prefix="warm"))  # the counter row exists from here on
    with CaptureQueriesContext(connection) as one:
        meter_llm_calls(calls(org, user, 1, tokens=1, prefix="one"))
    with CaptureQueriesContext(connection) as fifty:
        meter_llm_calls(calls(org, user, 50, tokens=1, prefix="fifty"))
    assert len(fifty) == len(one) <= 4  # entitlements (when stale), ledger insert, counter update
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 100 + 1 + 50


def test_runs_holding_their_own_organization_instances_share_one_entitlements_read(db) -> None:
    from mozaiks_core.auth.models import Organization

    user, org = make_member("shared@example.com")
    meter_llm_calls(calls(org, user, 1, prefix="warm"), entitlements_max_age=60)
    # Every run loads its own instance of the organization; within the max age none re-reads.
    other_run = Organization.objects.get(pk=org.pk)
    with CaptureQueriesContext(connection) as batch:
        meter_llm_calls(calls(other_run, user, 2, prefix="other"), entitlements_max_age=60)
    assert len(batch) == 2  # ledger insert and counter update only
    with CaptureQueriesContext(connection) as fresh:
        meter_llm_calls(calls(Organization.objects.get(pk=org.pk), user, 1, prefix="zero"))
    assert len(fresh) > 2  # max age 0: the entitlements are read again


def test_retried_calls_count_once_even_mixed_with_new_ones(db) -> None:
    user, org = make_member("retry@example.com")
    meter_llm_calls(calls(org, user, 3))
    budgets = meter_llm_calls(calls(org, user, 4))  # 3 retried, 1 new
    assert budgets[0].used == 400
    assert UsageEvent.objects.filter(organization=org).count() == 4
    single = meter_llm_tokens(organization=org, user=user, total_tokens=100, transaction_id="llm:chat-1:0")
    assert single.used == 400  # the one-call path agrees on what was already recorded


def test_a_batch_that_exhausts_a_hard_budget_is_recorded_in_full_and_reported_exhausted(db) -> None:
    user, org = make_member("over@example.com")
    budgets = meter_llm_calls(calls(org, user, 3, tokens=400))
    assert all(budget.exhausted for budget in budgets)
    assert (budgets[0].used, budgets[0].limit, budgets[0].remaining) == (1200, 1000, 0)
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 1200


def test_calls_of_several_organizations_get_their_own_budgets(db) -> None:
    user_a, org_a = make_member("a@example.com")
    user_b, org_b = make_member("b@example.com")
    batch = [*calls(org_a, user_a, 2, tokens=450, prefix="a"), *calls(org_b, user_b, 1, tokens=10, prefix="b")]
    budgets = meter_llm_calls(batch)
    assert [budget.used for budget in budgets] == [900, 900, 10]
    assert [budget.exhausted for budget in budgets] == [False, False, False]


def test_a_transaction_id_of_another_organization_is_refused_and_nothing_is_counted(db) -> None:
    user_a, org_a = make_member("first@example.com")
    user_b, org_b = make_member("second@example.com")
    meter_llm_calls(calls(org_a, user_a, 1, prefix="shared"))
    with pytest.raises(UsageError) as refused, transaction.atomic():  # the caller's transaction rolls back
        meter_llm_calls(calls(org_b, user_b, 2, prefix="shared"))
    assert refused.value.code == "DUPLICATE_TRANSACTION_ID"
    assert not UsageEvent.objects.filter(organization=org_b).exists()
    assert not UsageCounter.objects.filter(organization=org_b, used__gt=0).exists()


def test_bad_quantities_refuse_the_whole_batch(db) -> None:
    user, org = make_member("bad@example.com")
    with pytest.raises(UsageError), transaction.atomic():
        meter_llm_calls([*calls(org, user, 2), LLMCall(org, user, -5, "llm:chat-1:bad")])
    assert not UsageEvent.objects.filter(organization=org).exists()


def test_zero_token_calls_record_nothing_but_still_answer_the_budget(db) -> None:
    user, org = make_member("zero-batch@example.com")
    budgets = meter_llm_calls(calls(org, user, 2, tokens=0))
    assert [budget.remaining for budget in budgets] == [1000, 1000]
    assert not UsageEvent.objects.filter(organization=org).exists()


@pytest.mark.postgres
def test_concurrent_batches_count_exactly(postgres_db, transactional_db) -> None:
    user, org = make_member("race-batch@example.com")
    def writer(index: int) -> None:
        for batch in range(25):
            meter_llm_calls(calls(org, user, 4, tokens=3, prefix=f"w{index}-b{batch}"))

    race(4, writer)
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 4 * 25 * 4 * 3
    assert UsageEvent.objects.filter(organization=org).count() == 400
