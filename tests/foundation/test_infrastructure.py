"""The test infrastructure itself: real ASGI servers, Celery workers, Redis layer and Chromium."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


@pytest.mark.slow
@pytest.mark.dbmatrix
@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
def test_asgi_server_fixture_serves_health_from_a_real_process(asgi_server: Any, server: str) -> None:
    process = asgi_server(server=server)
    with urllib.request.urlopen(f"{process.info['url']}/ready", timeout=5) as response:
        body = json.loads(response.read())
    assert body["status"] == "ok"


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.dbmatrix
def test_celery_worker_fixture_runs_a_task_sent_through_redis(celery_worker: Any, redis_url: str) -> None:
    import redis
    from celery import Celery

    worker = celery_worker()
    key = f"ping-{uuid.uuid4().hex}"
    # Not the current app: shared_task proxies (billing, runtime tasks) resolve through
    # current_app, so a current throwaway app would send later tests' tasks to this broker.
    sender = Celery(broker=redis_url, set_as_current=False)
    sender.send_task("mozaiks.ping", args=[key], queue="mozaiks.default")
    sender.close()
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(k.decode().endswith(key) for k in client.scan_iter(f"*{key}*")):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker never ran the task:\n{worker.log()[-3000:]}")


@pytest.mark.redis
def test_redis_channel_layer_fixture_delivers_group_messages(redis_channel_layer: str) -> None:
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisPubSubChannelLayer"

    async def roundtrip() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add("infra-check", channel)
        await layer.group_send("infra-check", {"type": "hello", "n": 1})
        return await layer.receive(channel)

    assert async_to_sync(roundtrip)() == {"type": "hello", "n": 1}


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_renders_a_page_served_by_a_real_server(asgi_server: Any, page: Any) -> None:
    process = asgi_server()
    page.goto(f"{process.info['url']}/api/docs")
    page.wait_for_selector("#swagger-ui, .swagger-ui", timeout=10000)
    assert "MozaiksCore" in page.title() or page.locator("text=MozaiksCore API").count() > 0
