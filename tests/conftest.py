"""Shared fixtures: real PostgreSQL, Redis, ASGI servers, Celery workers and Chromium.

Under ``CI=true`` a missing service fails the test; on a developer machine it skips.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.support.processes import (
    ManagedProcess,
    asgi_server_command,
    celery_worker_command,
    child_environment,
    start_process,
    wait_for_http,
    wait_for_log,
)
from tests.support.services import free_port, service_missing

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="mozaiks-tests-"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """Keep the SQLite test database in a file so child processes (servers, workers) share it."""
    config = settings.DATABASES["default"]
    if config["ENGINE"].endswith("sqlite3"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        config.setdefault("TEST", {})["NAME"] = str(_SESSION_TMP / f"test-{worker}.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def session_tmp() -> Path:
    """A temporary folder shared by the whole test session."""
    return _SESSION_TMP


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop in the main thread
    for the rest of the session, which async tests and ``async_to_sync`` cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres_db(db: None) -> None:
    """The test runs on PostgreSQL (the PostgreSQL leg of ``make test``)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("this test needs PostgreSQL; run it with DATABASE_URL=postgres://... (make test does)")


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Every test starts with empty caches: rate-limit counters (allauth's login limits count per
    IP, and the test client is always 127.0.0.1), throttles and cached lookups live there."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture(autouse=True)
def _close_event_writer_connection() -> Iterator[None]:
    """Close the database connection the event writer's thread keeps between batches.

    The writer gives it back when idle, which it notices only while its event loop runs; a test's
    loop ends first, so the connection would outlive the test, and at the end of the PostgreSQL leg
    the test database could not be dropped ("is being accessed by other users"). Imported by name,
    not looked up: if the writer moves, this fails at once instead of leaking again unseen.
    """
    yield
    from django.db import connections

    from mozaiks_core.runtime.runs.writer import _WRITER_THREAD

    if _WRITER_THREAD._threads:  # no thread yet: no batch was written in this process
        _WRITER_THREAD.submit(connections.close_all).result(timeout=30)


# --- Redis -----------------------------------------------------------------------------------


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The Redis server's URL (``TEST_REDIS_URL``), checked to answer PING."""
    if not _redis_available(REDIS_URL):
        service_missing(f"Redis is not answering at {REDIS_URL}")
    return REDIS_URL


REDIS_CLAIM_KEY = "mozaiks-tests:claimed-by"
REDIS_CLAIM_SECONDS = 600


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """A Redis database index of its own for this test (brokers and queues have fixed names).

    The index is claimed with a key (``SET NX``) that other test runs on the same server respect,
    and chosen with the system's randomness: pytest-randomly seeds ``random`` per test, so the same
    test would pick the same index in every run with the same seed. Released on teardown.
    """
    import redis

    base = redis_server_url.rsplit("/", 1)[0] if redis_server_url.count("/") > 2 else redis_server_url
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    indexes = random.SystemRandom().sample(range(1, 16), 15)
    for index in indexes:
        client = redis.Redis.from_url(f"{base}/{index}")
        if client.set(REDIS_CLAIM_KEY, token, nx=True, ex=REDIS_CLAIM_SECONDS):
            break
        client.close()
    else:  # every index is busy: share one rather than fail
        index, client = indexes[0], None
    yield f"{base}/{index}"
    if client is not None:
        if client.get(REDIS_CLAIM_KEY) == token.encode():
            client.delete(REDIS_CLAIM_KEY)
        client.close()


@pytest.fixture
def redis_channel_layer(redis_server_url: str, settings: Any) -> Iterator[str]:
    """Switch this test to channels-redis's pub/sub layer with a unique prefix; yields the prefix."""
    from channels.layers import channel_layers

    prefix = f"mozaiks-test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis_server_url], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    yield prefix
    channel_layers.backends.clear()


@pytest.fixture
def celery_broker() -> Iterator[Callable[[str], None]]:
    """``celery_broker(url)`` sends this test's tasks to a real broker instead of running them eagerly.

    Afterwards the project's Celery app is back on its settings, and no connection pool made for
    ``url`` survives: ``Celery.close()`` forgets the connection pool but not the producer pool
    (``app.amqp._producer_pool``), which keeps publishing to the broker it was made for, so a later
    test pointing the app at its own worker would send every task to an earlier test's Redis.
    """
    from mozaiks_core.celery import app

    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}

    def forget_pools() -> None:  # what Celery itself does after a fork
        app._pool = None
        amqp = app.__dict__.get("amqp")
        if amqp is not None:
            amqp._producer_pool = None

    def use(url: str) -> None:
        forget_pools()
        app.conf.update(broker_url=url, task_always_eager=False)

    yield use
    forget_pools()
    app.conf.update(**previous)


# --- real processes --------------------------------------------------------------------------

ServerFactory = Callable[..., ManagedProcess]


@pytest.fixture
def asgi_server(transactional_db: None, session_tmp: Path) -> Iterator[ServerFactory]:
    """Start real ASGI servers (uvicorn by default, or daphne) on free loopback ports.

    Call it as ``asgi_server(server="uvicorn", env={...})``; the returned process has
    ``info["url"]`` (http://127.0.0.1:PORT) and ``info["ws_url"]``. All are stopped afterwards.
    """
    started: list[ManagedProcess] = []

    def start(server: str = "uvicorn", env: dict[str, str] | None = None, **_: Any) -> ManagedProcess:
        port = free_port()
        log = session_tmp / f"asgi-{server}-{port}.log"
        process = start_process(asgi_server_command(server, port), child_environment(env), log)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/health", process)
        process.info.update(url=url, ws_url=f"ws://127.0.0.1:{port}", port=port)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def celery_worker(transactional_db: None, redis_url: str, session_tmp: Path) -> Iterator[Callable[..., ManagedProcess]]:
    """Start real Celery workers against Redis; the returned process has ``info["redis_url"]``."""
    started: list[ManagedProcess] = []

    def start(queues: str = "mozaiks.runs,mozaiks.default", env: dict[str, str] | None = None,
              concurrency: int = 4) -> ManagedProcess:
        environment = {"REDIS_URL": redis_url, "MOZAIKS_CELERY_EAGER": "false", **(env or {})}
        log = session_tmp / f"celery-{uuid.uuid4().hex[:6]}.log"
        process = start_process(celery_worker_command(queues, concurrency), child_environment(environment), log)
        started.append(process)
        wait_for_log(process, "ready.", timeout=60)
        process.info.update(redis_url=redis_url)
        return process

    yield start
    for process in started:
        process.stop()


# --- browser ---------------------------------------------------------------------------------

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    executable = shutil.which("chromium")
    if executable is None:
        service_missing("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the
    # test body stay synchronous and are safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    """A fresh browser context and page for one test."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()
