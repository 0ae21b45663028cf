"""Observability: Prometheus metrics, structured logs and (optional) OpenTelemetry traces.

Owns ``metrics.py`` (every metric, behind small functions the hot paths call), ``logs.py``
(JSON lines, the log context, third-party noise filters), ``tracing.py`` (OpenTelemetry when the
``otel`` extra is installed), ``middleware.py`` (request id and HTTP metrics) and ``views.py``
(the protected scrape endpoint). It may import Django and the shared ``mozaiks_core`` helpers
only; every app may import it, and it imports no app except inside the scrape-time collectors.
"""
