"""Usage ledger and counters: idempotent transaction ids, bad quantities, exactness under concurrency."""

from __future__ import annotations

import pytest

from mozaiks_core.entitlements.metering import consume
from mozaiks_core.entitlements.models import UsageCounter, UsageEvent
from mozaiks_core.entitlements.services import UsageError, meter_llm_tokens
from tests.billing.support import install_test_catalog, make_member
from tests.support.threads import race

pytestmark = pytest.mark.usefixtures("plans")


@pytest.fixture
def org(db: None):
    return make_member("meter@example.com")[1]


def test_a_repeated_transaction_id_is_a_no_op(org) -> None:
    first = consume(org, "tokens_monthly", 40, "tx-1", enforce=False)
    again = consume(org, "tokens_monthly", 40, "tx-1", enforce=False)
    assert (first.duplicate, again.duplicate, again.used) == (False, True, 40)
    assert UsageEvent.objects.filter(transaction_id="tx-1").count() == 1
    assert UsageCounter.objects.get(organization=org, meter="tokens_monthly").used == 40


def test_a_hard_meter_refuses_what_would_pass_the_limit_and_records_the_refusal(org) -> None:
    assert consume(org, "workflow_runs_monthly", 2, "runs-a").granted
    refused = consume(org, "workflow_runs_monthly", 2, "runs-b")
    assert (refused.granted, refused.used, refused.remaining) == (False, 2, 1)
    assert UsageEvent.objects.get(transaction_id="runs-b").granted is False
    assert consume(org, "workflow_runs_monthly", 1, "runs-c").granted


def test_recorded_usage_passes_a_hard_limit_because_it_already_happened(org) -> None:
    result = consume(org, "tokens_monthly", 1500, "tokens-big", enforce=False)
    assert (result.granted, result.used, result.exceeded) == (True, 1500, True)


@pytest.mark.parametrize("quantity", [0, -5, 10**12, 2.5, "7", True, None])
def test_negative_zero_absurd_or_non_integer_quantities_are_refused_with_nothing_written(org, quantity) -> None:
    with pytest.raises(UsageError) as caught:
        consume(org, "tokens_monthly", quantity, "bad-quantity", enforce=False)
    assert caught.value.as_dict()["error"] == "INVALID_USAGE_QUANTITY"
    assert "hint" in caught.value.as_dict()
    assert not UsageEvent.objects.exists()


def test_an_empty_transaction_id_is_refused(org) -> None:
    with pytest.raises(UsageError) as caught:
        meter_llm_tokens(organization=org, user=None, total_tokens=10, transaction_id="")
    assert caught.value.code == "INVALID_TRANSACTION_ID"


def test_a_transaction_id_reused_by_another_organization_is_refused_not_miscounted(org) -> None:
    other = make_member("other-meter@example.com")[1]
    consume(org, "tokens_monthly", 5, "shared-id", enforce=False)
    with pytest.raises(UsageError) as caught:
        consume(other, "tokens_monthly", 5, "shared-id", enforce=False)
    assert caught.value.code == "DUPLICATE_TRANSACTION_ID"
    assert not UsageCounter.objects.filter(organization=other).exists()


def test_a_meter_the_plan_lacks_is_refused_when_enforcing(org) -> None:
    result = consume(org, "gpu_minutes", 1, "gpu-1")
    assert result.granted is False
    assert not UsageEvent.objects.exists()


@pytest.mark.postgres
def test_eight_threads_consuming_one_meter_never_exceed_the_limit_and_count_exactly(postgres_db, transactional_db,
                                                                                     settings) -> None:
    from mozaiks_core.billing.models import Plan

    install_test_catalog()
    org = make_member("race@example.com")[1]
    free = Plan.objects.get(plan_id="free")
    free.meters = {**free.meters, "workflow_runs_monthly": {"limit": 1000, "reset": "month", "enforcement": "hard"}}
    free.save()
    granted = [0] * 8
    def worker(index: int) -> None:
        for call in range(500):
            if consume(org, "workflow_runs_monthly", 1, f"race-{index}-{call}").granted:
                granted[index] += 1

    race(8, worker)
    counter = UsageCounter.objects.get(organization=org, meter="workflow_runs_monthly")
    assert sum(granted) == 1000 == counter.used
    assert UsageEvent.objects.filter(organization=org).count() == 4000
    assert UsageEvent.objects.filter(organization=org, granted=True).count() == 1000
