"""Every Prometheus metric of the framework, and the small functions the hot paths call.

Callers never touch ``prometheus_client`` directly: they call :func:`frame_sent`,
:func:`run_started` and the like, so a metric's name, labels and buckets live in one place.
Each call is one ``inc()``/``observe()`` on a pre-resolved child where the labels are fixed (the
socket and writer paths), costing one prometheus_client update (figures in docs/benchmarks.md).

Across processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (a directory every process of the host
shares, emptied before the processes start) ``prometheus_client`` runs in multiprocess mode and
the scrape endpoint of any web process reports the sum over every process of the host, the Celery
workers included. Files are named by host name and process id, so containers sharing one volume
never collide. Without it each process reports only itself (the embedded default is one process).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as _values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_identifier(pid: int | None = None) -> str:
    """The name of this process's (or ``pid``'s) metric files: host name and process id."""
    return f"{socket.gethostname()}-{pid if pid is not None else os.getpid()}"


if MULTIPROC_DIR:
    from prometheus_client import multiprocess

    os.makedirs(MULTIPROC_DIR, exist_ok=True)
    # A restarted process may get the pid (and, in a container, the host name) of a dead one:
    # its live gauges must start from zero, not from the dead process's last values.
    multiprocess.mark_process_dead(process_identifier(), MULTIPROC_DIR)
    _values.ValueClass = _values.MultiProcessValue(process_identifier=process_identifier)

# Seconds: fast local events (frames, HTTP) and slow model calls need different buckets.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter("mozaiks_http_requests_total", "HTTP requests answered, by route and status.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("mozaiks_http_request_seconds", "HTTP request duration, by route.", ["method", "route"],
                         buckets=FAST_BUCKETS)
OPEN_SOCKETS = Gauge("mozaiks_ws_open_sockets", "Chat WebSockets open now.", multiprocess_mode="livesum")
FRAMES_IN = Counter("mozaiks_ws_frames_in_total", "Client frames received, by frame type (invalid: refused).",
                    ["type"])
FRAMES_OUT = Counter("mozaiks_ws_frames_out_total", "Frames handed to the ASGI server for a client.")
DELIVERY_SECONDS = Histogram("mozaiks_event_delivery_seconds",
                             "From a chat event's emit by the run to its socket's outbox (wall clock).",
                             buckets=FAST_BUCKETS)
RUNS_STARTED = Counter("mozaiks_runs_started_total", "Workflow runs started, by workflow.", ["workflow"])
RUNS_FINISHED = Counter("mozaiks_runs_finished_total", "Workflow runs ended, by workflow and status.",
                        ["workflow", "status"])
RUN_FAILURES = Counter("mozaiks_run_failures_total", "Failed workflow runs, by workflow and error code.",
                       ["workflow", "error_code"])
LLM_SECONDS = Histogram("mozaiks_llm_call_seconds", "LLM call duration (the whole reply, streamed or not), by model.",
                        ["model"], buckets=SLOW_BUCKETS)
LLM_TOKENS = Counter("mozaiks_llm_tokens_total", "LLM tokens, by model and kind (prompt, completion).",
                     ["model", "kind"])
QUOTA_REFUSALS = Counter("mozaiks_quota_refusals_total", "Requests and runs an entitlement refused, by key and error.",
                         ["key", "error"])
WEBHOOKS = Counter("mozaiks_webhook_events_total", "Billing webhook deliveries, by provider and outcome.",
                   ["provider", "outcome"])

_frames_out = FRAMES_OUT
_open_sockets = OPEN_SOCKETS
_delivery = DELIVERY_SECONDS
_frames_in_children: dict[str, Any] = {}
KNOWN_FRAME_TYPES = frozenset({"user.input.submit", "ui_tool_response", "client.resume", "chat.start_workflow"})


def now() -> float:
    """Wall-clock seconds: event emit times cross processes, so they cannot be monotonic."""
    return time.time()


def socket_opened() -> None:
    """A chat socket was accepted."""
    _open_sockets.inc()


def socket_closed() -> None:
    """A chat socket that :func:`socket_opened` counted has gone."""
    _open_sockets.dec()


def frame_received(frame_type: str | None) -> None:
    """One client frame; ``None`` or an unknown type counts as ``invalid``."""
    label = frame_type if frame_type in KNOWN_FRAME_TYPES else "invalid"
    child = _frames_in_children.get(label)
    if child is None:
        child = _frames_in_children[label] = FRAMES_IN.labels(label)
    child.inc()


def frame_sent() -> None:
    """One frame handed to the server for a client."""
    _frames_out.inc()


def frames_delivered(emitted_at: float | None) -> None:
    """A batch of a chat's frames reached a socket's outbox; ``emitted_at`` is its first frame's emit time."""
    if emitted_at:
        _delivery.observe(max(0.0, time.time() - emitted_at))


def run_started(workflow: str) -> None:
    """A claimed chat began to execute."""
    RUNS_STARTED.labels(workflow).inc()


def run_finished(workflow: str, status: str, error_code: str = "") -> None:
    """A run ended: ``status`` is completed, failed or cancelled; failures count by ``error_code`` too."""
    RUNS_FINISHED.labels(workflow, status).inc()
    if status == "failed":
        RUN_FAILURES.labels(workflow, error_code or "UNKNOWN").inc()


def llm_call(model: str, seconds: float, prompt_tokens: int, completion_tokens: int) -> None:
    """One LLM call's duration and tokens."""
    LLM_SECONDS.labels(model).observe(seconds)
    LLM_TOKENS.labels(model, "prompt").inc(prompt_tokens)
    LLM_TOKENS.labels(model, "completion").inc(completion_tokens)


def quota_refused(key: str, error: str) -> None:
    """An entitlement refused a request or a run (``LIMIT_EXCEEDED``, ``TOKEN_BUDGET_EXCEEDED``, ...)."""
    QUOTA_REFUSALS.labels(key or "-", error).inc()


def webhook_outcome(provider: str, outcome: str) -> None:
    """A webhook delivery was stored as a duplicate, or processed to ``outcome`` (its status)."""
    WEBHOOKS.labels(provider, outcome).inc()


# --- read at scrape time ----------------------------------------------------------------------

CELERY_QUEUES = ("mozaiks.runs", "mozaiks.default")
# kombu's Redis transport keeps one list per queue and priority step (0 has the bare name).
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class BacklogCollector(Collector):
    """Values read when scraped: the domain-event outbox backlog and the Celery queues' depth.

    Each read that fails (no database, no broker) is left out of the scrape rather than failing it.
    """

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """The gauges of this scrape."""
        outbox = _outbox_backlog()
        if outbox is not None:
            family = GaugeMetricFamily("mozaiks_outbox_backlog", "Domain-event deliveries not yet done, by status.",
                                       labels=["status"])
            for status, count in outbox.items():
                family.add_metric([status], count)
            yield family
        depths = _celery_queue_depths()
        if depths is not None:
            family = GaugeMetricFamily("mozaiks_celery_queue_depth", "Tasks waiting in the broker, by queue.",
                                       labels=["queue"])
            for queue, depth in depths.items():
                family.add_metric([queue], depth)
            yield family


def _outbox_backlog() -> dict[str, int] | None:
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
    from django.db import DatabaseError

    try:
        from mozaiks_core.plugins.models import EventDelivery, OutboxEvent

        backlog = {"pending_events": OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).count()}
        for status in (EventDelivery.Status.PENDING, EventDelivery.Status.FAILED):
            backlog[f"{status}_deliveries"] = EventDelivery.objects.filter(status=status).count()
    except (DatabaseError, ImproperlyConfigured, AppRegistryNotReady):  # no database here: left out
        return None
    return backlog


def _celery_queue_depths() -> dict[str, int] | None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        broker = str(getattr(settings, "CELERY_BROKER_URL", ""))
    except ImproperlyConfigured:  # no settings here: left out
        return None
    if not broker.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1)
        with client.pipeline(transaction=False) as pipe:
            for queue in CELERY_QUEUES:
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            lengths = pipe.execute()
    except redis.RedisError:
        return None
    steps = len(_PRIORITY_SUFFIXES)
    return {queue: sum(lengths[i * steps:(i + 1) * steps]) for i, queue in enumerate(CELERY_QUEUES)}


def scrape() -> bytes:
    """The exposition text of this host (multiprocess mode) or this process, backlog gauges included."""
    if MULTIPROC_DIR:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=MULTIPROC_DIR)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(BacklogCollector())
    return generate_latest(registry)


class _ProcessMetrics(Collector):
    """The default registry's metrics (this process's), for a registry that adds the backlog gauges."""

    def collect(self) -> Iterable[Any]:
        """Everything the process's default registry holds."""
        yield from REGISTRY.collect()


def mark_process_dead(pid: int) -> None:
    """Drop a dead process's live gauges (the supervisor calls this when a child exits)."""
    if MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process_identifier(pid), MULTIPROC_DIR)
