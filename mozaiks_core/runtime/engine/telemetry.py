"""AG2's own OpenTelemetry instrumentation (``autogen.opentelemetry``) for the runs of this process.

When traces are on (:mod:`mozaiks_core.observability.tracing`), each run's pattern is instrumented
before it prepares its group chat, so agent turns and tool calls are spans under the run's span,
and ``OpenAIWrapper.create`` is instrumented once per process for the LLM call spans.
"""

from __future__ import annotations

import threading
from typing import Any

from mozaiks_core.observability import tracing

_llm_instrumented = False
_lock = threading.Lock()


def instrument_run(pattern: Any) -> None:
    """Instrument ``pattern`` (and, once, AG2's LLM wrapper) when traces are on; otherwise nothing."""
    global _llm_instrumented
    provider = tracing.provider()
    if provider is None:
        return
    from autogen.opentelemetry import instrument_llm_wrapper, instrument_pattern

    with _lock:
        if not _llm_instrumented:
            instrument_llm_wrapper(tracer_provider=provider)
            _llm_instrumented = True
    instrument_pattern(pattern, tracer_provider=provider)
