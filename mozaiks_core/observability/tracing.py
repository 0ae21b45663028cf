"""OpenTelemetry traces, when the ``otel`` extra is installed and an exporter is configured.

``configure()`` runs once per process (the ASGI application, each Celery worker process): with
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set it exports over
OTLP/HTTP, with ``OTEL_TRACES_EXPORTER=console`` it prints spans as JSON, and it instruments
Django and Celery with the OpenTelemetry contrib packages. Without the extra, or without an
exporter, every function here is a no-op and costs one boolean test.

A run keeps its trace across the processes it crosses: :func:`carrier` writes the current span
into a dict (W3C ``traceparent``) that the run's dispatch carries to the worker (the Celery task's
``trace`` argument), and :func:`run_span` continues it there. The engine adds AG2's own spans
(``autogen.opentelemetry``) under the run span; the event writer adds one span per chat and batch
of frames it publishes.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

try:
    from opentelemetry import propagate, trace
    from opentelemetry.context import Context
except ImportError:  # the otel extra is not installed
    trace = None  # type: ignore[assignment]
    propagate = None  # type: ignore[assignment]
    Context = Any  # type: ignore[assignment,misc]

TRACER_NAME = "mozaiks_core"
_provider: Any = None


def available() -> bool:
    """The ``otel`` extra is installed."""
    return trace is not None


def enabled() -> bool:
    """Traces are being recorded in this process."""
    return _provider is not None


def provider() -> Any:
    """The process's ``TracerProvider`` (``None`` when traces are off)."""
    return _provider


def _exporter_from_environment() -> Any:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        logger.warning("OTEL_TRACES_EXPORTER=%s is not supported here; use otlp, console or none", name)
        return None
    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(*, exporter: Any = None, service_name: str = "") -> bool:
    """Record traces in this process (once); True when they are on.

    ``exporter`` (tests: an ``InMemorySpanExporter``) replaces the one the environment selects
    and exports each span as it ends.
    """
    global _provider
    if _provider is not None:
        return True
    if not available():
        return False
    chosen = exporter if exporter is not None else _exporter_from_environment()
    if chosen is None:
        return False
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = service_name or os.environ.get("OTEL_SERVICE_NAME", "mozaiks")
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": name}))
    processor = SimpleSpanProcessor(chosen) if exporter is not None else BatchSpanProcessor(chosen)
    tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    DjangoInstrumentor().instrument(tracer_provider=tracer_provider)
    CeleryInstrumentor().instrument(tracer_provider=tracer_provider)
    _provider = tracer_provider
    return True


def shutdown() -> None:
    """Stop recording (tests): remove the Django and Celery instrumentation, flush the spans."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    DjangoInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()
    _provider.force_flush()
    _provider = None


def carrier() -> dict[str, str] | None:
    """The current span as W3C trace-context headers, for a run dispatched elsewhere (None: traces off)."""
    if _provider is None:
        return None
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers or None


CHAT_TRACE_SECONDS = 3600


def remember_chat(chat_id: str) -> None:
    """Keep the current span as the trace of a new chat (in the shared cache, an hour): the runs
    its sockets start later, in any process, continue the trace of the request that created it."""
    headers = carrier()
    if headers:
        from django.core.cache import cache

        cache.set(f"mozaiks:trace:{chat_id}", headers, CHAT_TRACE_SECONDS)


def chat_carrier(chat_id: str) -> dict[str, str] | None:
    """The trace :func:`remember_chat` kept for ``chat_id`` (None: traces off or none kept)."""
    if _provider is None:
        return None
    from django.core.cache import cache

    return cache.get(f"mozaiks:trace:{chat_id}")


def current_context() -> Any:
    """The current OpenTelemetry context (None: traces off), for spans started later in another task."""
    if _provider is None:
        return None
    from opentelemetry import context

    return context.get_current()


@contextlib.contextmanager
def run_span(workflow: str, chat_id: str, run_id: str, parent: dict[str, str] | None) -> Iterator[None]:
    """The span of one run: the child of ``parent`` (the dispatching request's carrier), else of the
    current span."""
    if _provider is None:
        yield
        return
    context = propagate.extract(parent) if parent else None
    tracer = _provider.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"mozaiks.run {workflow}", context=context, kind=trace.SpanKind.INTERNAL,
                                      attributes={"mozaiks.chat_id": chat_id, "mozaiks.run_id": run_id,
                                                  "mozaiks.workflow": workflow}):
        yield


def start_publish_span(parent: Any, chat_id: str, frames: int, last_seq: int | None) -> Any:
    """A started span for one chat's frames of one published batch (end it after the publish)."""
    tracer = _provider.get_tracer(TRACER_NAME)
    attributes: dict[str, Any] = {"mozaiks.chat_id": chat_id, "mozaiks.frames": frames}
    if last_seq is not None:
        attributes["mozaiks.last_seq"] = last_seq
    return tracer.start_span("mozaiks.frames.publish", context=parent, kind=trace.SpanKind.PRODUCER,
                             attributes=attributes)
