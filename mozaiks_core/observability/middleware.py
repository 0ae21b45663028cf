"""One middleware for every request: its id (``X-Request-ID``), its log context and its HTTP metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from mozaiks_core.observability import logs, metrics

# A client's own id is kept when it is plain (a load balancer's or a tracing id), else replaced.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMATCHED = "<unmatched>"


def request_id_of(request: HttpRequest) -> str:
    """The request's ``X-Request-ID`` when it is plain, else a new one."""
    presented = request.headers.get("X-Request-ID", "")
    return presented if _REQUEST_ID.match(presented) else uuid.uuid4().hex


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (bounded label values), never the raw path."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None) if match is not None else None
    return f"/{route}" if route is not None else UNMATCHED


class RequestObservabilityMiddleware:
    """Binds ``request_id`` for the request's log records, returns it as ``X-Request-ID``, and counts
    the request (``mozaiks_http_requests_total``, ``mozaiks_http_request_seconds``)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        with logs.log_context(request_id=request_id):
            response = self.get_response(request)
        return self._finish(request, response, request_id, started)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        with logs.log_context(request_id=request_id):
            response = await self.get_response(request)
        return self._finish(request, response, request_id, started)

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse, request_id: str, started: float) -> HttpResponse:
        route = route_of(request)
        metrics.HTTP_REQUESTS.labels(request.method or "", route, str(response.status_code)).inc()
        metrics.HTTP_SECONDS.labels(request.method or "", route).observe(time.perf_counter() - started)
        response["X-Request-ID"] = request_id
        return response
