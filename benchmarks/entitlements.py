"""Entitlements and billing webhooks benchmark: one command, figures against the issue's targets.

    .venv/bin/python benchmarks/entitlements.py                      # SQLite (in-memory test DB)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mozaiks_bench .venv/bin/python benchmarks/entitlements.py

Measures decide() latency (warm: the request's cached rules; cold: a fresh request, i.e. the
one or two queries included), database queries per gated API call, and the Stripe webhook
processing rate (stored events applied per second, and full signed deliveries per second).
A throwaway test database is created and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mozaiks_core.settings")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_benchmark")
os.environ.setdefault("LOG_LEVEL", "warning")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

TARGET_DECIDE_P50_MS = 0.5
TARGET_QUERIES_PER_GATED_CALL = 2
TARGET_WEBHOOKS_PER_SECOND = 200


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bench_decide(iterations: int) -> dict[str, float]:
    from mozaiks_core.auth.models import Organization
    from mozaiks_core.entitlements.metering import consume
    from mozaiks_core.entitlements.services import decide
    from tests.billing.support import make_member

    _, org = make_member("bench-decide@example.com")
    consume(org, "tokens_monthly", 10, "bench-warmup", enforce=False)
    keys = ["chat", "export_chats", "members", "tokens_monthly", "workflow_runs_monthly", "no_such_key"]
    decide(org, "chat")
    warm: list[float] = []
    for index in range(iterations):
        key = keys[index % len(keys)]
        started = time.perf_counter()
        decide(org, key)
        warm.append((time.perf_counter() - started) * 1000)
    cold: list[float] = []
    for index in range(max(200, iterations // 20)):
        fresh = Organization(pk=org.pk, name=org.name, slug=org.slug)  # a new request's instance
        key = keys[index % len(keys)]
        started = time.perf_counter()
        decide(fresh, key)
        cold.append((time.perf_counter() - started) * 1000)
    return {"warm_p50": statistics.median(warm), "warm_p99": percentile(warm, 0.99),
            "cold_p50": statistics.median(cold), "cold_p99": percentile(cold, 0.99)}


def bench_gated_call() -> dict[str, int]:
    from django.http import HttpRequest
    from ninja import Router
    from ninja.testing import TestClient

    from mozaiks_core.auth.security import api_auth
    from mozaiks_core.entitlements.gates import entitlement_required
    from tests.billing.support import make_member

    router = Router()

    @router.get("/plain", auth=api_auth)
    def plain(request: HttpRequest) -> dict[str, bool]:
        return {"ok": True}

    @router.get("/feature", auth=api_auth)
    @entitlement_required("chat")
    def feature(request: HttpRequest) -> dict[str, bool]:
        return {"ok": True}

    @router.get("/meter", auth=api_auth)
    @entitlement_required("tokens_monthly")
    def meter(request: HttpRequest) -> dict[str, bool]:
        return {"ok": True}

    user, _ = make_member("bench-gate@example.com")
    client = TestClient(router)
    counts: dict[str, int] = {}
    for path in ["/plain", "/feature", "/meter"]:
        client.get(path, user=user)  # warm the plan index
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, user=user).status_code == 200
        counts[path] = len(queries)
    return {"auth_only": counts["/plain"], "feature_gate": counts["/feature"] - counts["/plain"],
            "meter_gate": counts["/meter"] - counts["/plain"]}


def _signed(payload: str) -> str:
    timestamp = int(time.time())
    digest = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(), f"{timestamp}.{payload}".encode(),
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _events(orgs: list, count: int, prefix: str, first_created: int = 1_000_000) -> list[dict]:
    from tests.billing.support import subscription_object

    statuses = ["trialing", "active", "past_due", "active"]
    events = []
    for number in range(count):
        org = orgs[number % len(orgs)]
        obj = subscription_object(f"sub_{org.pk}", f"cus_{org.pk}", org.pk, statuses[number % 4],
                                  plan_id="pro" if number % 2 else "team")
        events.append({"id": f"{prefix}_{number}", "object": "event", "type": "customer.subscription.updated",
                       "created": first_created + number, "data": {"object": obj}})
    return events


def bench_webhooks(count: int, round_number: int) -> dict[str, float]:
    from datetime import UTC, datetime

    from django.test import Client

    from mozaiks_core.auth.models import Organization
    from mozaiks_core.billing.models import WebhookEvent
    from mozaiks_core.billing.webhooks import process_event

    orgs = [Organization.objects.create(name=f"Bench {n}", slug=f"bench-{round_number}-{n}") for n in range(50)]
    stored = WebhookEvent.objects.bulk_create([
        WebhookEvent(event_id=event["id"], type=event["type"], payload=event,
                     event_created_at=datetime.fromtimestamp(event["created"], tz=UTC))
        for event in _events(orgs, count, f"evt_stored_{round_number}")
    ])
    started, cpu_started = time.perf_counter(), time.process_time()
    for event in stored:
        process_event(event.pk)
    processing = count / (time.perf_counter() - started)
    processing_cpu = count / (time.process_time() - cpu_started)
    client = Client()
    # Later than the stored events: an event of the same second as the last one applied is a notice
    # whose subscription is re-read from Stripe, which this benchmark does not measure.
    payloads = [json.dumps(event) for event in _events(orgs, count, f"evt_delivered_{round_number}",
                                                       first_created=2_000_000)]
    started = time.perf_counter()
    for payload in payloads:
        response = client.post("/billing/webhooks/stripe/", data=payload, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=_signed(payload))
        assert response.status_code == 200, response.content
    delivery = count / (time.perf_counter() - started)
    applied = WebhookEvent.objects.filter(status__in=["processed", "stale"], event_id__contains=f"_{round_number}_")
    assert applied.count() == 2 * count, applied.count()
    return {"processing_per_s": processing, "processing_per_cpu_s": processing_cpu, "delivery_per_s": delivery}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20000, help="decide() calls (warm)")
    parser.add_argument("--webhooks", type=int, default=1000, help="events per webhook measurement")
    parser.add_argument("--rounds", type=int, default=3, help="webhook rounds (the median is reported)")
    args = parser.parse_args()

    setup_test_environment()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from tests.billing.support import install_test_catalog

        install_test_catalog()
        vendor = connection.vendor
        decide_figures = bench_decide(args.iterations)
        gate = bench_gated_call()
        rounds = [bench_webhooks(args.webhooks, number) for number in range(args.rounds)]
        webhooks = {name: statistics.median(result[name] for result in rounds) for name in rounds[0]}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database: {vendor}")
    print(f"decide() warm   p50 {decide_figures['warm_p50']:.4f} ms  p99 {decide_figures['warm_p99']:.4f} ms"
          f"  (target p50 <= {TARGET_DECIDE_P50_MS} ms; ratio target/p50 = "
          f"{TARGET_DECIDE_P50_MS / decide_figures['warm_p50']:.0f}x)")
    print(f"decide() cold   p50 {decide_figures['cold_p50']:.3f} ms  p99 {decide_figures['cold_p99']:.3f} ms"
          "  (a fresh request: rules + counters loaded)")
    print(f"queries per gated API call: feature gate {gate['feature_gate']}, meter gate {gate['meter_gate']}"
          f"  (target <= {TARGET_QUERIES_PER_GATED_CALL}; authentication alone costs {gate['auth_only']})")
    print(f"webhooks (median of {len(rounds)} rounds of {args.webhooks}): "
          f"{webhooks['processing_per_s']:.0f} stored events applied/s, "
          f"{webhooks['delivery_per_s']:.0f} signed deliveries/s end to end"
          f"  (target >= {TARGET_WEBHOOKS_PER_SECOND}/s on PostgreSQL; ratio "
          f"{webhooks['processing_per_s'] / TARGET_WEBHOOKS_PER_SECOND:.1f}x / "
          f"{webhooks['delivery_per_s'] / TARGET_WEBHOOKS_PER_SECOND:.1f}x)")
    print(f"webhook application per CPU-second of this process: {webhooks['processing_per_cpu_s']:.0f} events "
          "(independent of other load on the machine; the database server's own CPU is not counted)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
