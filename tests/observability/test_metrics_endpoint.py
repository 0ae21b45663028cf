"""``/metrics``: off without a token, 401 without the right one, Prometheus text with it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mozaiks_core.observability import metrics

TOKEN = "metrics-token-" + "x" * 24

pytestmark = pytest.mark.django_db


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.MOZAIKS_METRICS_TOKEN = TOKEN
    return TOKEN


def test_without_a_configured_token_the_endpoint_does_not_exist(client: Client, settings: Any) -> None:
    settings.MOZAIKS_METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert b"mozaiks_" not in response.content


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"])
def test_a_caller_without_the_token_gets_401_and_no_data(client: Client, metrics_token: str,
                                                         authorization: str | None) -> None:
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"mozaiks_" not in response.content
    assert b"# TYPE" not in response.content


def test_http_requests_are_counted_by_route_pattern_never_by_raw_path(client: Client, metrics_token: str) -> None:
    before = scrape(client)
    client.get("/health")
    client.get(f"/no-such-page-{uuid.uuid4().hex}")
    after = scrape(client)
    health = ("mozaiks_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200")))
    unmatched = ("mozaiks_http_requests_total", (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))
    assert after[health] == before.get(health, 0) + 1
    assert after[unmatched] == before.get(unmatched, 0) + 1
    assert not any("no-such-page" in str(key) for key in after)
    duration = ("mozaiks_http_request_seconds_count", (("method", "GET"), ("route", "/health")))
    assert after[duration] == before.get(duration, 0) + 1


def test_every_response_carries_its_request_id_and_keeps_a_plain_one_from_the_client(client: Client) -> None:
    generated = client.get("/health")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-ID"] == "lb-1234.abc"
    replaced = client.get("/health", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert replaced != "<script>"
    assert len(replaced) == 32


def test_the_outbox_backlog_is_read_when_scraped(client: Client, metrics_token: str) -> None:
    from mozaiks_core.plugins.models import OutboxEvent

    before = scrape(client)[("mozaiks_outbox_backlog", (("status", "pending_events"),))]
    OutboxEvent.objects.create(event_type="domain.demo.happened", module_id="demo", payload={},
                               occurred_at=timezone.now())
    assert scrape(client)[("mozaiks_outbox_backlog", (("status", "pending_events"),))] == before + 1


@pytest.mark.redis
def test_the_celery_queue_depth_is_read_from_the_redis_broker(client: Client, metrics_token: str, settings: Any,
                                                              redis_server_url: str) -> None:
    import redis

    redis_url = redis_server_url  # TEST_REDIS_URL's own database: the queues' keys are deleted after
    settings.CELERY_BROKER_URL = redis_url
    broker = redis.Redis.from_url(redis_url)
    broker.delete(*[f"mozaiks.runs{suffix}" for suffix in metrics._PRIORITY_SUFFIXES])
    broker.rpush("mozaiks.runs", "a", "b")
    broker.rpush("mozaiks.runs\x06\x169", "c")
    try:
        samples = scrape(client)
    finally:
        broker.delete(*[f"mozaiks.runs{suffix}" for suffix in metrics._PRIORITY_SUFFIXES])
    assert samples[("mozaiks_celery_queue_depth", (("queue", "mozaiks.runs"),))] == 3
    assert ("mozaiks_celery_queue_depth", (("queue", "mozaiks.default"),)) in samples
